package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/manifest"
)

// SetupCmd registers ferry's GitHub App from its manifest: the browser
// posts the manifest to GitHub, GitHub sends it back with a one-time code,
// and setup trades the code for the App's credentials.
type SetupCmd struct {
	URL          string        `name:"url" env:"FERRY_SETUP_URL" required:"" help:"ferry's public address (https://…): GitHub sends webhooks to URL/webhook, and it is the App's homepage."`
	Org          string        `name:"org" env:"FERRY_SETUP_ORG" help:"Register the App under this organization (you must own it); default: your own account."`
	Name         string        `name:"name" env:"FERRY_SETUP_NAME" default:"ferry" help:"The App's name: GitHub App names are unique across all of GitHub, so a team's own ferry needs its own (e.g. ferry-acme)."`
	Out          string        `name:"out" env:"FERRY_SETUP_OUT" default:"ferry-app" help:"Directory (made 0700) for the credentials, one 0600 file each: app-id, private-key.pem, webhook-secret, client-id, client-secret."`
	Force        bool          `name:"force" help:"Replace credential files already in --out."`
	Format       string        `name:"format" env:"FERRY_SETUP_FORMAT" enum:"files,k8s-secret" default:"files" help:"files: write them to --out; k8s-secret: print a Kubernetes Secret named ferry-github to stdout instead — with the private key and secrets in clear, on purpose: pipe it to kubectl apply -f -."`
	Listen       string        `name:"listen" env:"FERRY_SETUP_LISTEN" default:"127.0.0.1:0" help:"Loopback address of the local page that talks to GitHub (port 0: any free port). On a remote machine, forward it: ssh -L PORT:127.0.0.1:PORT."`
	GitHubURL    string        `name:"github-url" env:"FERRY_GITHUB_URL" default:"https://github.com" help:"GitHub's web address (GitHub Enterprise: https://HOST)."`
	GitHubAPIURL string        `name:"github-api-url" env:"FERRY_GITHUB_API_URL" default:"https://api.github.com/" help:"GitHub REST API base URL (GitHub Enterprise: https://HOST/api/v3/)."`
	Timeout      time.Duration `name:"timeout" env:"FERRY_SETUP_TIMEOUT" default:"15m" help:"How long to wait for GitHub's answer."`
}

// k8sMountDir is where the serve line printed with --format k8s-secret
// expects the Secret mounted.
const k8sMountDir = "/etc/ferry/github"

var orgLogin = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)

func (s *SetupCmd) validate() error {
	var err error
	if s.URL, err = webURL(s.URL, "url", "FERRY_SETUP_URL"); err != nil {
		return err
	}
	if s.GitHubURL, err = webURL(s.GitHubURL, "github-url", "FERRY_GITHUB_URL"); err != nil {
		return err
	}
	api := GitHubFlags{GitHubAPIURL: s.GitHubAPIURL}
	if err := api.validate(); err != nil {
		return err
	}
	s.GitHubAPIURL = api.GitHubAPIURL
	s.Name = strings.TrimSpace(s.Name)
	switch {
	case s.Name == "" || len(s.Name) > 34:
		return settingError("name", "FERRY_SETUP_NAME", "must be 1 to 34 characters (GitHub's limit), got %q", s.Name)
	case s.Org != "" && !orgLogin.MatchString(s.Org):
		return settingError("org", "FERRY_SETUP_ORG", "%q is not a GitHub organization name", s.Org)
	case s.Timeout < time.Second:
		return settingError("timeout", "FERRY_SETUP_TIMEOUT", "must be at least 1s, got %s", s.Timeout)
	case s.Out == "" && s.Format == "files":
		return settingError("out", "FERRY_SETUP_OUT", "required")
	}
	if err := validateListen(s.Listen, "listen", "FERRY_SETUP_LISTEN"); err != nil {
		return err
	}
	// GitHub's code arrives in the callback's URL over plain HTTP: only
	// this machine may see it.
	if host, _, _ := net.SplitHostPort(s.Listen); !isLoopback(host) {
		return settingError("listen", "FERRY_SETUP_LISTEN", "must be a loopback address (127.0.0.1, ::1, localhost): GitHub's one-time code reaches it over plain HTTP; forward the port to reach it from elsewhere")
	}
	return nil
}

// webURL checks an http(s) address and drops its trailing slash; plain
// http only for this machine.
func webURL(raw, flag, env string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", settingError(flag, env, "must be an http(s) URL without query, got %q", raw)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return "", settingError(flag, env, "http:// only for a loopback host, use https://; got %q", raw)
	}
	return strings.TrimSuffix(raw, "/"), nil
}

// Run implements the command.
func (s *SetupCmd) Run(e *env) error {
	if err := s.validate(); err != nil {
		return err
	}
	log, err := e.cli.logger(e.stderr)
	if err != nil {
		return err
	}
	if s.Format == "files" {
		if s.Out, err = filepath.Abs(s.Out); err != nil {
			return settingError("out", "FERRY_SETUP_OUT", "%v", err)
		}
		if err := prepareCredentialDir(s.Out, s.Force); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", s.Listen)
	if err != nil {
		return settingError("listen", "FERRY_SETUP_LISTEN", "%v", err)
	}
	flow, err := s.newFlow(e, ln.Addr().String(), log)
	if err != nil {
		ln.Close()
		return err
	}
	ctx, cancel := context.WithTimeout(e.ctx, s.Timeout)
	defer cancel()
	srv := &http.Server{Handler: flow, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() { _ = srv.Serve(ln) }()
	where := "your account"
	if s.Org != "" {
		where = "the organization " + s.Org + " (you must own it)"
	}
	fmt.Fprintf(e.stderr, "ferry setup: open http://%s/ in a browser signed in to GitHub to register the App %q for %s (waiting %s)\n",
		ln.Addr(), s.Name, where, s.Timeout)
	res := s.wait(ctx, e.ctx, flow)
	// Let the browser get its last page; then stop listening.
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer scancel()
	_ = srv.Shutdown(sctx)
	if res.err != nil {
		return res.err
	}
	return s.report(e, res.app)
}

// newFlow builds the local page and callback for a listener at addr.
func (s *SetupCmd) newFlow(e *env, addr string, log *slog.Logger) (*setupFlow, error) {
	state := make([]byte, 32)
	if _, err := rand.Read(state); err != nil {
		return nil, fmt.Errorf("setup state: %w", err)
	}
	m, err := setupManifest(manifest.AppManifest, s.Name, s.URL, "http://"+addr+callbackPath)
	if err != nil {
		return nil, err
	}
	cfg := setupFlowConfig{
		State: hex.EncodeToString(state), Host: addr, Manifest: m, Name: s.Name, Org: s.Org, Log: log,
		Finish: func(ctx context.Context, code string) (*appCredentials, error) { return s.finish(ctx, e.stdout, code) },
	}
	cfg.Action = s.GitHubURL + "/settings/apps/new?state=" + cfg.State
	if s.Org != "" {
		cfg.Action = s.GitHubURL + "/organizations/" + url.PathEscape(s.Org) + "/settings/apps/new?state=" + cfg.State
	}
	return newSetupFlow(cfg), nil
}

// wait is for the flow's one result, the timeout, or an interrupt.
func (s *SetupCmd) wait(ctx, parent context.Context, flow *setupFlow) setupResult {
	select {
	case res := <-flow.done:
		return res
	case <-ctx.Done():
		if parent.Err() != nil {
			return setupResult{err: fmt.Errorf("setup interrupted before GitHub answered: %w", parent.Err())}
		}
		return setupResult{err: fmt.Errorf("GitHub did not send the App back within %s (--timeout): run ferry setup again", s.Timeout)}
	}
}

// finish trades the code for the credentials and stores them: files, or
// the Secret on stdout.
func (s *SetupCmd) finish(ctx context.Context, stdout io.Writer, code string) (*appCredentials, error) {
	app, err := convertManifest(ctx, s.GitHubAPIURL, code)
	if err != nil {
		return nil, err
	}
	lost := func(err error) error {
		return fmt.Errorf("GitHub created the App %q (id %d) but its credentials were not stored: %w; generate a new private key and webhook secret in its settings (%s), or delete it and run ferry setup again",
			app.Name, app.ID, err, app.HTMLURL)
	}
	if s.Format == "k8s-secret" {
		b, err := k8sSecret(app.credentialFiles())
		if err == nil {
			_, err = stdout.Write(b)
		}
		if err != nil {
			return nil, lost(err)
		}
		return app, nil
	}
	if err := writeCredentials(s.Out, app.credentialFiles(), s.Force); err != nil {
		return nil, lost(err)
	}
	return app, nil
}

// report prints where to install the App and how to start ferry with it —
// never the credentials themselves.
func (s *SetupCmd) report(e *env, app *appCredentials) error {
	w, dir, stored := e.stdout, s.Out, "Wrote its credentials to "+s.Out+" (readable only by you)."
	if s.Format == "k8s-secret" {
		w, dir = e.stderr, k8sMountDir // stdout carries the Secret
		stored = "Printed its credentials as the Kubernetes Secret " + k8sSecretName + " on stdout."
	}
	line := []string{"ferry", "serve", "--github-app-id=" + strconv.FormatInt(app.ID, 10),
		"--github-private-key-file=" + shellQuote(filepath.Join(dir, "private-key.pem")),
		"--webhook-secret-file=" + shellQuote(filepath.Join(dir, "webhook-secret"))}
	if s.GitHubAPIURL != "https://api.github.com/" {
		line = append(line, "--github-api-url="+shellQuote(s.GitHubAPIURL))
	}
	mounted := ""
	if s.Format == "k8s-secret" {
		mounted = ", with the Secret mounted at " + k8sMountDir
	}
	_, err := fmt.Fprintf(w, "Registered the GitHub App %q (id %d).\n%s\n\nInstall it on your repositories:\n  %s\n\n"+
		"Then start ferry where GitHub reaches %s/webhook (it listens on 127.0.0.1:8080; see --listen)%s:\n  %s\n",
		app.Name, app.ID, stored, app.installURL(s.GitHubURL), s.URL, mounted, strings.Join(line, " "))
	return err
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:=@%+,-]+$`)

// shellQuote makes s one shell word.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
