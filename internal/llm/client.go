package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Config configures a Client.
type Config struct {
	URL       string // the endpoint's base URL, e.g. https://api.openai.com/v1
	APIKey    string
	Model     string // the Strong tier
	ModelFast string // the Fast tier; default Model
	// DailyTokens caps what one installation spends per UTC day, whatever
	// its policy says; 0: no server cap.
	DailyTokens int64
	MaxTokens   int           // completion tokens when a request names none; 0: the endpoint's default
	Timeout     time.Duration // per HTTP call; default 60s
	Retries     int           // retries of a 429, 5xx or network failure; default 3, negative: none
	Clock       func() time.Time
	Log         *slog.Logger
	HTTPClient  *http.Client
	// Sleep waits between retries; default a timer that ctx cancels.
	// Tests replace it to see the waits without taking them.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Ledger is what the client keeps in the store: what each installation
// spent, and answers worth reusing.
type Ledger interface {
	// TokensUsed sums the tokens an installation spent since a time;
	// cached answers spent none.
	TokensUsed(ctx context.Context, installation int64, since time.Time) (int64, error)
	RecordUsage(ctx context.Context, u Usage) error
	CachedAnswer(ctx context.Context, key string) (text string, ok bool, err error)
	CacheAnswer(ctx context.Context, key, model, text string, at time.Time) error
}

// Client asks an OpenAI-compatible endpoint.
type Client struct {
	cfg    Config
	api    *openai.Client
	ledger Ledger
	// noSchema is set once the endpoint refused a json_schema response
	// format: later structured requests describe the schema in the task
	// instead of sending it again to be refused.
	noSchema atomic.Bool
	schemas  sync.Map // schema JSON → *jsonschema.Schema
	// reserved are the tokens calls in flight may spend, by installation:
	// concurrent calls see each other's share of the budget before the
	// ledger records what they spent.
	mu       sync.Mutex
	reserved map[int64]int64
}

// Defaults for what a Config leaves out.
const (
	DefaultTimeout = 60 * time.Second
	DefaultRetries = 3
)

// New checks cfg and makes a client that records through ledger.
func New(cfg Config, ledger Ledger) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("llm: the URL must be http(s)://HOST/…, got %q", redactURL(cfg.URL))
	}
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("llm: a model is required")
	}
	if ledger == nil {
		return nil, errors.New("llm: a ledger is required")
	}
	cfg = withDefaults(cfg)
	oc := openai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = strings.TrimRight(cfg.URL, "/")
	hc := *cfg.HTTPClient
	hc.Transport = hintTransport{base: hc.Transport}
	hc.Timeout = 0 // the per-call timeout is a context: it also covers reading the body
	oc.HTTPClient = &hc
	return &Client{cfg: cfg, api: openai.NewClientWithConfig(oc), ledger: ledger}, nil
}

func withDefaults(cfg Config) Config {
	if cfg.ModelFast == "" {
		cfg.ModelFast = cfg.Model
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Retries == 0 {
		cfg.Retries = DefaultRetries
	}
	cfg.Retries = max(cfg.Retries, 0)
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	return cfg
}

// redactURL drops credentials from a URL before it is shown.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}

// Enabled is true: a model is configured.
func (c *Client) Enabled() bool { return true }

// Model names the model a tier uses.
func (c *Client) Model(t Tier) string {
	if t == Fast {
		return c.cfg.ModelFast
	}
	return c.cfg.Model
}

// Ask answers req: from the cache when the same question was answered
// before, otherwise from the endpoint within the installation's budget.
// A structured answer is valid against its schema and req.Check, or the
// error is ErrInvalid.
func (c *Client) Ask(ctx context.Context, req Request) (Answer, error) {
	start := c.cfg.Clock()
	q := c.question(req)
	if text, ok, err := c.ledger.CachedAnswer(ctx, q.key); err != nil {
		return Answer{}, fmt.Errorf("llm %s: read cache: %w", req.Feature, err)
	} else if ok {
		return c.cached(ctx, req, q, text, start)
	}
	release, err := c.reserve(ctx, req, start)
	if err != nil {
		return Answer{}, err
	}
	defer release()
	text, spent, err := c.converse(ctx, req, q)
	usage := Usage{Installation: req.Installation, Feature: req.Feature, Model: q.model,
		PromptTokens: spent.PromptTokens, CompletionTokens: spent.CompletionTokens, At: start.UTC()}
	if spent.calls > 0 {
		// Tokens spent on an answer that was then refused still count, and
		// so do those of a job cancelled meanwhile: they were paid for.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		rerr := c.ledger.RecordUsage(rctx, usage)
		cancel()
		if rerr != nil {
			err = errors.Join(err, fmt.Errorf("llm %s: record usage: %w", req.Feature, rerr))
		}
	}
	c.logCall(ctx, usage, spent.calls, c.cfg.Clock().Sub(start), err)
	if err != nil {
		return Answer{}, c.redact(err)
	}
	if err := c.ledger.CacheAnswer(ctx, q.key, q.model, text, start.UTC()); err != nil {
		return Answer{}, fmt.Errorf("llm %s: cache answer: %w", req.Feature, err)
	}
	return Answer{Text: text, Model: q.model, Usage: usage}, nil
}

// cached answers from the cache, recording a call that spent nothing.
func (c *Client) cached(ctx context.Context, req Request, q question, text string, start time.Time) (Answer, error) {
	usage := Usage{Installation: req.Installation, Feature: req.Feature, Model: q.model, Cached: true, At: start.UTC()}
	if err := c.ledger.RecordUsage(ctx, usage); err != nil {
		return Answer{}, fmt.Errorf("llm %s: record usage: %w", req.Feature, err)
	}
	c.logCall(ctx, usage, 0, c.cfg.Clock().Sub(start), nil)
	return Answer{Text: text, Model: q.model, Usage: usage, Cached: true}, nil
}

// recordTimeout bounds recording a call's usage after its job ended.
const recordTimeout = 5 * time.Second

// reserve refuses a call once the installation spent its day — the lower
// of the server's cap and the policy's budget, where set — counting what
// calls in flight may spend, and holds this call's share until release.
// Replicas see each other's calls only once recorded: each may overshoot
// by the calls it has in flight.
func (c *Client) reserve(ctx context.Context, req Request, now time.Time) (release func(), err error) {
	var limit int64
	for _, l := range []int64{c.cfg.DailyTokens, req.Budget} {
		if l > 0 && (limit == 0 || l < limit) {
			limit = l
		}
	}
	if limit == 0 {
		return func() {}, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	day := now.UTC().Truncate(24 * time.Hour)
	used, err := c.ledger.TokensUsed(ctx, req.Installation, day)
	if err != nil {
		return nil, fmt.Errorf("llm %s: read today's usage: %w", req.Feature, err)
	}
	if held := c.reserved[req.Installation]; used+held >= limit {
		return nil, fmt.Errorf("llm %s: installation %d used %d of %d tokens today (%d more held by calls in flight): %w",
			req.Feature, req.Installation, used, limit, held, ErrBudget)
	}
	share := estimate(req, c.cfg.MaxTokens)
	if c.reserved == nil {
		c.reserved = map[int64]int64{}
	}
	c.reserved[req.Installation] += share
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.reserved[req.Installation] -= share; c.reserved[req.Installation] <= 0 {
			delete(c.reserved, req.Installation)
		}
	}, nil
}

// estimate is what a call may spend: its prompt (about four characters a
// token) and its longest answer.
func estimate(req Request, maxTokens int) int64 {
	n := len(req.Instructions) + len(req.Task)
	for _, s := range req.Data {
		n += len(s.Name) + len(s.Text)
	}
	answer := req.MaxTokens
	if answer <= 0 {
		answer = maxTokens
	}
	if answer <= 0 {
		answer = 1024
	}
	return int64(n/4 + answer)
}

// logCall says what a call cost and how long it took; never the prompt,
// the answer or the key.
func (c *Client) logCall(ctx context.Context, u Usage, calls int, took time.Duration, err error) {
	attrs := []any{"model", u.Model, "feature", u.Feature, "installation", u.Installation, "cached", u.Cached,
		"prompt_tokens", u.PromptTokens, "completion_tokens", u.CompletionTokens, "calls", calls, "duration", took}
	if err != nil {
		c.cfg.Log.WarnContext(ctx, "llm call failed", append(attrs, "error", c.redact(err).Error())...)
		return
	}
	c.cfg.Log.InfoContext(ctx, "llm call", attrs...)
}

// redact hides the API key in an error: some endpoints echo part or all
// of a rejected key, and callers log errors.
func (c *Client) redact(err error) error {
	if err == nil || len(c.cfg.APIKey) < 4 || !strings.Contains(err.Error(), c.cfg.APIKey) {
		return err
	}
	return redacted{err: err, text: strings.ReplaceAll(err.Error(), c.cfg.APIKey, "[redacted]")}
}

// redacted is an error with the key cut from its text; errors.Is still
// sees what it wraps.
type redacted struct {
	err  error
	text string
}

func (r redacted) Error() string { return r.text }
func (r redacted) Unwrap() error { return r.err }
