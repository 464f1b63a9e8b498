// Package github is ferry's GitHub adapter: it authenticates as the App (a
// JWT for /app calls, a cached, refreshed token per installation), respects
// primary and secondary rate limits, retries only what is safe to retry,
// makes repeated reads conditional, and offers the operations ferry needs as
// small methods. Errors are classified (see Classify) so jobs know whether
// to retry.
package github

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/gofri/go-github-ratelimit/v2/github_ratelimit"
	"github.com/gofri/go-github-ratelimit/v2/github_ratelimit/github_secondary_ratelimit"
	gh "github.com/google/go-github/v60/github"
	ghinst "github.com/google/go-github/v88/github" // the version ghinstallation's options use
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferry-ci/ferry/internal/keylock"
)

// Config configures the adapter.
type Config struct {
	AppID      int64
	PrivateKey []byte // PEM, as GitHub issues it
	BaseURL    string // default https://api.github.com/; GitHub Enterprise: https://HOST/api/v3/
	// BotLogin is the App's bot account ("ferry[bot]"), whose comments are
	// ferry's own; empty: read from GitHub (GET /app) when first needed.
	BotLogin string
	// Comments records the ids of ferry's comments (nil: found by marker,
	// paging through every comment).
	Comments  CommentIndex
	Transport http.RoundTripper // default: a clone of http.DefaultTransport
	Logger    *slog.Logger
	// Retries of idempotent calls after 5xx or network errors (default 3),
	// starting at RetryBase (default 500ms) and doubling.
	Retries   int
	RetryBase time.Duration
	// MaxSecondaryWait caps one wait for a secondary rate limit (default 2m);
	// longer ones fail with a RateLimited error for the job to snooze.
	MaxSecondaryWait time.Duration
	Sleep            func(ctx context.Context, d time.Duration) error // for tests
	// Metrics receives each installation's rate limit (default: kept
	// nowhere).
	Metrics *Metrics
}

// App is the GitHub App: /app calls, and clients per installation.
type App struct {
	cfg      Config
	base     http.RoundTripper // retries + rate limits, no credentials
	apps     *ghinstallation.AppsTransport
	client   *gh.Client
	mu       sync.Mutex
	clients  map[int64]*Client
	botMu    sync.Mutex // apart from mu: GET /app must not hold up clients
	botTried time.Time  // the last GET /app for the bot's login
	locks    keylock.Set
}

// New builds the App. It fails on a key that is not an RSA PEM key.
func New(cfg Config) (*App, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://api.github.com/"
	}
	if !strings.HasSuffix(cfg.BaseURL, "/") {
		cfg.BaseURL += "/"
	}
	if _, err := url.Parse(cfg.BaseURL); err != nil {
		return nil, fmt.Errorf("github base URL: %w", err)
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	if cfg.RetryBase == 0 {
		cfg.RetryBase = 500 * time.Millisecond
	}
	if cfg.MaxSecondaryWait == 0 {
		cfg.MaxSecondaryWait = 2 * time.Minute
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepCtx
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	a := &App{cfg: cfg, clients: map[int64]*Client{}}
	retry := &retryTransport{next: cfg.Transport, max: cfg.Retries, base: cfg.RetryBase, sleep: cfg.Sleep}
	a.base = github_ratelimit.New(retry,
		github_secondary_ratelimit.WithSingleSleepLimit(cfg.MaxSecondaryWait, nil),
		github_secondary_ratelimit.WithLimitDetectedCallback(func(c *github_secondary_ratelimit.CallbackContext) {
			cfg.Logger.Warn("github secondary rate limit; waiting", "until", c.ResetTime)
		}))
	apps, err := ghinstallation.NewAppsTransport(a.base, cfg.AppID, cfg.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("github app key: %w", err)
	}
	apps.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	a.apps = apps
	a.client = newClient(apps, cfg.BaseURL)
	return a, nil
}

func newClient(rt http.RoundTripper, base string) *gh.Client {
	c := gh.NewClient(&http.Client{Transport: rt, Timeout: 60 * time.Second})
	u, _ := url.Parse(base) // checked in New
	c.BaseURL = u
	c.UserAgent = "ferry"
	return c
}

// Client acts as one installation.
type Client struct {
	app  *App
	id   int64
	gh   *gh.Client
	auth *reauthTransport
}

// GitCredentials are the basic-auth user and password git over HTTPS takes
// for this installation (its current token; never log them).
func (c *Client) GitCredentials(ctx context.Context) (user, password string, err error) {
	t, ok := c.auth.current().(*ghinstallation.Transport)
	if !ok {
		return "", "", fmt.Errorf("installation %d: no token transport", c.id)
	}
	tok, err := t.Token(ctx)
	if err != nil {
		return "", "", fmt.Errorf("installation %d token: %w", c.id, err)
	}
	return "x-access-token", tok, nil
}

// Installation returns the client for an installation, made once and kept:
// its token is cached and refreshed a minute before it expires.
func (a *App) Installation(id int64) *Client {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.clients[id]; ok {
		return c
	}
	fresh := func() http.RoundTripper {
		t := ghinstallation.NewFromAppsTransport(a.apps, id)
		t.BaseURL = a.apps.BaseURL
		// Without options ghinstallation posts the body `null`, which GitHub
		// tolerates but its API description does not allow; `{}` is valid.
		t.InstallationTokenOptions = &ghinst.InstallationTokenOptions{}
		return t
	}
	reauth := &reauthTransport{cur: fresh(), fresh: fresh}
	rt := &rateTransport{next: newETagTransport(reauth, 500), installation: strconv.FormatInt(id, 10), metrics: a.cfg.Metrics}
	c := &Client{app: a, id: id, gh: newClient(rt, a.cfg.BaseURL), auth: reauth}
	a.clients[id] = c
	return c
}
