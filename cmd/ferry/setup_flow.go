package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// setupFlow is the local web side of GitHub's App manifest flow: "/" posts
// the manifest to GitHub from the browser, and GitHub sends the browser
// back to callbackPath with a one-time code, which finish trades for the
// App's credentials. It accepts one callback carrying its state, once.
type setupFlow struct {
	cfg  setupFlowConfig
	mu   sync.Mutex
	used bool
	done chan setupResult // one result, buffered
}

// setupFlowConfig is what the flow serves and checks.
type setupFlowConfig struct {
	State    string // random, 32 bytes: only the browser sent to GitHub from "/" knows it
	Host     string // host:port the redirect URL names: a rebound DNS name is refused
	Action   string // GitHub's page registering an App from a manifest, with the state
	Manifest []byte
	Name     string
	Org      string
	// Finish trades the code for the credentials and stores them.
	Finish func(ctx context.Context, code string) (*appCredentials, error)
	Log    *slog.Logger
}

type setupResult struct {
	app *appCredentials
	err error
}

// callbackPath is where GitHub sends the browser back (the manifest's
// redirect_url).
const callbackPath = "/setup/callback"

func newSetupFlow(cfg setupFlowConfig) *setupFlow {
	return &setupFlow{cfg: cfg, done: make(chan setupResult, 1)}
}

var setupPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ferry setup</title></head>
<body>
<form id="register" method="post" action="{{.Action}}">
<input type="hidden" name="manifest" value="{{.Manifest}}">
<p>Registering the GitHub App <strong>{{.Name}}</strong> on GitHub{{if .Org}} for the organization <strong>{{.Org}}</strong>{{end}}…</p>
<button type="submit">Continue to GitHub</button>
</form>
<script nonce="{{.Nonce}}">document.getElementById("register").submit();</script>
</body></html>
`))

var setupDone = template.Must(template.New("done").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ferry setup</title></head>
<body><p>{{.}}</p></body></html>
`))

func (f *setupFlow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	if !f.sameHost(r.Host) {
		// A page on another name (DNS rebinding) could read the state.
		f.cfg.Log.Warn("setup: refused a request for another host", "host", r.Host, "remote", r.RemoteAddr)
		f.answer(w, http.StatusMisdirectedRequest, "This address is not ferry setup's.")
		return
	}
	if r.Method != http.MethodGet {
		f.answer(w, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	switch r.URL.Path {
	case "/":
		f.page(w)
	case callbackPath:
		f.callback(w, r)
	default:
		f.answer(w, http.StatusNotFound, "Not found.")
	}
}

func (f *setupFlow) sameHost(host string) bool {
	if host == f.cfg.Host {
		return true
	}
	_, port, err := net.SplitHostPort(f.cfg.Host)
	return err == nil && host == net.JoinHostPort("localhost", port)
}

// page posts the manifest to GitHub, by itself (a script allowed by its
// nonce) or by a click.
func (f *setupFlow) page(w http.ResponseWriter) {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	nonce := base64.RawURLEncoding.EncodeToString(b)
	origin := "https://github.com"
	if u, err := url.Parse(f.cfg.Action); err == nil {
		origin = u.Scheme + "://" + u.Host
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; form-action "+origin+
		" 'self'; base-uri 'none'; frame-ancestors 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = setupPage.Execute(w, map[string]any{
		"Action": f.cfg.Action, "Manifest": string(f.cfg.Manifest), "Name": f.cfg.Name, "Org": f.cfg.Org,
		"Nonce": nonce,
	})
}

// callback accepts GitHub's redirect: the state must be this setup's
// (compared in constant time) and unused; only then is the code traded.
func (f *setupFlow) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	if subtle.ConstantTimeCompare([]byte(state), []byte(f.cfg.State)) != 1 {
		f.cfg.Log.Warn("setup: refused a callback whose state is not this setup's", "remote", r.RemoteAddr)
		f.answer(w, http.StatusForbidden, "This link was not started by this ferry setup; nothing was done.")
		return
	}
	code := q.Get("code")
	if !manifestCode.MatchString(code) {
		f.answer(w, http.StatusBadRequest, "GitHub's answer has no code; nothing was done.")
		return
	}
	f.mu.Lock()
	used := f.used
	f.used = true
	f.mu.Unlock()
	if used {
		f.cfg.Log.Warn("setup: refused a second callback", "remote", r.RemoteAddr)
		f.answer(w, http.StatusGone, "This setup has already received GitHub's answer; nothing more was done.")
		return
	}
	// Not the request's context: a browser closing mid-conversion must not
	// leave an App created whose credentials were never stored.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Minute)
	defer cancel()
	app, err := f.cfg.Finish(ctx, code)
	f.done <- setupResult{app: app, err: err}
	if err != nil {
		f.answer(w, http.StatusBadGateway, "ferry setup failed; the terminal says why.")
		return
	}
	f.answer(w, http.StatusOK, "The GitHub App "+app.Name+" is registered. Return to the terminal to install it and start ferry.")
}

func (f *setupFlow) answer(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = setupDone.Execute(w, msg)
}
