// Package githubsim is a stateful GitHub for tests: an httptest server that
// authenticates like GitHub (App JWTs, expiring installation tokens),
// validates every request — request bodies closed to properties the
// operation does not define — and its own every response against GitHub's
// OpenAPI description, paginates, rate-limits, answers conditional requests,
// fails on demand, and sends real, signed webhook payloads. Tests assert on
// its state ("PR #7 has exactly one ferry comment"), not on call sequences.
package githubsim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/routers"
)

// Config configures a simulator. Zero values take the defaults noted.
type Config struct {
	AppID         int64         // default 4242
	AppSlug       string        // default "ferry"
	WebhookSecret []byte        // default "githubsim-secret"
	TokenTTL      time.Duration // installation token lifetime (default 1h, GitHub's)
	Now           func() time.Time
}

// Call is one request the simulator answered.
type Call struct {
	Method, Path string
	Operation    string // operationId, e.g. issues/create-comment
	Status       int
	Credential   string // "app", "installation:ID" or ""
}

// Sim is the simulated GitHub.
type Sim struct {
	t     testing.TB
	cfg   Config
	spec  *spec
	grant appGrant // ferry's permissions and events, from its App manifest
	srv   *httptest.Server
	key   *rsa.PrivateKey

	mu            sync.Mutex
	ids           int64
	installations map[int64]*Installation
	repos         map[string]*Repo
	tokens        map[string]token
	tokensIssued  int
	calls         []Call
	faults        []*Fault
	remaining     map[string]int
	deliveries    []*hookDelivery
	webhookURL    string
	handlers      map[string]handler
	flow          manifestFlow // github.com's side of the App manifest flow
}

type token struct {
	installation int64
	expires      time.Time
}

// RateLimit is the primary limit the simulator reports per credential.
const RateLimit = 5000

// New starts a simulator that closes when t ends. Loading GitHub's API
// description costs ~2 s once per test binary.
func New(t testing.TB, cfg Config) *Sim {
	t.Helper()
	if cfg.AppID == 0 {
		cfg.AppID = 4242
	}
	if cfg.AppSlug == "" {
		cfg.AppSlug = "ferry"
	}
	if len(cfg.WebhookSecret) == 0 {
		cfg.WebhookSecret = []byte("githubsim-secret")
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	sp, err := loadSpec()
	if err != nil {
		t.Fatalf("githubsim: %v", err)
	}
	grant, err := ferryGrant()
	if err != nil {
		t.Fatalf("githubsim: %v", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := &Sim{
		t: t, cfg: cfg, spec: sp, grant: grant, key: key, ids: 1000,
		installations: map[int64]*Installation{}, repos: map[string]*Repo{}, tokens: map[string]token{},
		remaining: map[string]int{},
	}
	s.handlers = handlers()
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the API base URL, with a trailing slash (like https://api.github.com/).
func (s *Sim) URL() string { return s.srv.URL + "/" }

// AppID is the simulated App's id.
func (s *Sim) AppID() int64 { return s.cfg.AppID }

// PrivateKeyPEM is the App's private key, as GitHub lets you download it.
func (s *Sim) PrivateKeyPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(s.key)})
}

// BotLogin is the login the App's comments and check runs appear under.
func (s *Sim) BotLogin() string { return s.cfg.AppSlug + "[bot]" }

// Calls returns every request answered so far.
func (s *Sim) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Count is how many answered requests had an operation (an operationId
// such as issues/create-comment) and, unless status is 0, that status.
func (s *Sim) Count(operation string, status int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.Operation == operation && (status == 0 || c.Status == status) {
			n++
		}
	}
	return n
}

// TokensIssued counts installation tokens created.
func (s *Sim) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokensIssued
}

// ExpireTokens makes every installation token issued so far invalid, as if
// its hour had passed.
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.tokens {
		v.expires = s.now().Add(-time.Second)
		s.tokens[k] = v
	}
}

func (s *Sim) now() time.Time { return s.cfg.Now() }

func (s *Sim) nextID() int64 {
	s.ids++
	return s.ids
}

// Fault makes matching requests fail. Path is a regular expression matched
// against the request path; Method "" matches any method.
type Fault struct {
	Method string
	Path   string
	Times  int // how many matching requests fail (0 = 1)
	Status int
	Header map[string]string
	Body   string
	// Applied: the request takes effect before the error is returned,
	// as when GitHub did the work but its answer was lost.
	Applied bool

	re   *regexp.Regexp
	hits int
}

// Inject adds a fault.
func (s *Sim) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.re = regexp.MustCompile(f.Path)
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// SecondaryRateLimit is the 403 GitHub answers when a client is too fast.
func SecondaryRateLimit(method, path string, retryAfter int) Fault {
	return Fault{Method: method, Path: path, Status: http.StatusForbidden,
		Header: map[string]string{"Retry-After": strconv.Itoa(retryAfter)},
		Body:   `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`}
}

func (s *Sim) fault(r *http.Request) *Fault {
	for _, f := range s.faults {
		if f.hits < f.Times && (f.Method == "" || f.Method == r.Method) && f.re.MatchString(r.URL.Path) {
			f.hits++
			return f
		}
	}
	return nil
}

// response is what a handler answers.
type response struct {
	status int
	body   any // marshaled as JSON; nil for no body
	header http.Header
	fault  bool // injected: not checked against the description
	// raw is a body in a media type the description does not describe
	// (a file's raw content), sent as is with its Content-Type.
	raw         []byte
	contentType string
}

func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, gitPrefix) {
		s.serveGit(w, r) // git's protocol, not the REST API
		return
	}
	if strings.HasPrefix(r.URL.Path, blobPrefix) {
		s.serveBlob(w, r) // artifact storage, not the REST API
		return
	}
	if s.serveWeb(w, r) {
		return // github.com's page registering an App from a manifest
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	route, params, err := s.spec.route(r)
	if err != nil {
		s.t.Errorf("githubsim: %s %s is not an operation in GitHub's API description: %v", r.Method, r.URL.Path, err)
		s.finish(w, r, nil, nil, errorResponse(http.StatusNotFound, "Not Found"), "")
		return
	}
	if err := validateRequest(r.Context(), r, body, route, params); err != nil {
		s.t.Errorf("githubsim: %s %s (%s) violates GitHub's API description:\n%v", r.Method, r.URL.RequestURI(), route.Operation.OperationID, err)
		s.finish(w, r, nil, nil, errorResponse(http.StatusUnprocessableEntity, "Invalid request.\n\n"+err.Error()), "")
		return
	}
	c := &call{sim: s, r: r, body: body, route: route, params: params}
	resp := s.handleLocked(c)
	s.finish(w, r, route, params, resp, c.credential)
}

// simBug is a panic raised by a handler that cannot answer: reported as a
// test error, answered 500. (t.Fatal is not allowed off the test goroutine.)
type simBug string

func (s *Sim) handleLocked(c *call) (resp response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			if a, ok := p.(abort); ok {
				resp = response(a)
				return
			}
			s.t.Errorf("githubsim: %s %s: %v", c.r.Method, c.r.URL.Path, p)
			resp = errorResponse(http.StatusInternalServerError, "githubsim failed")
		}
	}()
	return s.handle(c)
}

// handle runs under the lock: faults, authentication, the handler.
func (s *Sim) handle(c *call) response {
	f := s.fault(c.r)
	if f != nil && !f.Applied {
		return faultResponse(f)
	}
	if resp, ok := s.authenticate(c); !ok {
		return resp
	}
	s.remaining[c.credential]++
	h, ok := s.handlers[c.route.Operation.OperationID]
	if !ok {
		s.t.Errorf("githubsim: %s (%s %s) is not simulated", c.route.Operation.OperationID, c.r.Method, c.r.URL.Path)
		return errorResponse(http.StatusNotImplemented, "not simulated")
	}
	resp := h(c)
	if f != nil {
		return faultResponse(f)
	}
	return resp
}

func faultResponse(f *Fault) response {
	h := http.Header{}
	for k, v := range f.Header {
		h.Set(k, v)
	}
	var body any = map[string]any{"message": http.StatusText(f.Status)}
	if f.Body != "" {
		body = json.RawMessage(f.Body)
	}
	return response{status: f.Status, body: body, header: h, fault: true}
}

func errorResponse(status int, msg string) response {
	return response{status: status, body: map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest"}}
}

func (s *Sim) finish(w http.ResponseWriter, r *http.Request, route *routers.Route, params map[string]string, resp response, cred string) {
	var b []byte
	if resp.body != nil {
		var err error
		if b, err = json.Marshal(resp.body); err != nil {
			s.t.Errorf("githubsim: marshal response: %v", err)
		}
	}
	h := w.Header()
	for k, v := range resp.header {
		h[k] = v
	}
	if len(b) > 0 {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	if resp.raw != nil {
		b = resp.raw
		h.Set("Content-Type", resp.contentType)
	}
	status := resp.status
	if (status == http.StatusOK || status == http.StatusCreated) && len(b) > 0 {
		// GitHub tags every answer with a body, writes included (the
		// recorded exchanges show it); only GETs can be conditional.
		sum := sha256.Sum256(b)
		etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
		h.Set("ETag", etag)
		if r.Method == http.MethodGet && r.Header.Get("If-None-Match") == etag {
			status, b = http.StatusNotModified, nil // costs no rate limit: GitHub's rule
			h.Del("Content-Type")
		}
	}
	s.rateHeaders(h, cred, status)
	if route != nil && !resp.fault && resp.raw == nil && status != http.StatusNotModified && status < 500 && documented(route, status) {
		s.check(r, route, params, status, h, b)
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
	op := ""
	if route != nil {
		op = route.Operation.OperationID
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Operation: op, Status: status, Credential: cred})
	s.mu.Unlock()
}

// check reports the simulator's own answer where it breaks GitHub's
// description: its body and headers, and a Location header the description
// promises (kin-openapi checks the headers present, not those missing).
func (s *Sim) check(r *http.Request, route *routers.Route, params map[string]string, status int, h http.Header, b []byte) {
	if err := validateResponse(r.Context(), r, route, params, status, h, b); err != nil {
		s.t.Errorf("githubsim: its own response to %s %s (%s, %d) violates GitHub's API description:\n%v",
			r.Method, r.URL.Path, route.Operation.OperationID, status, err)
	}
	if d := route.Operation.Responses.Status(status); d != nil && d.Value != nil && d.Value.Headers["Location"] != nil && h.Get("Location") == "" {
		s.t.Errorf("githubsim: its own response to %s %s (%s, %d) lacks the Location header GitHub's description lists",
			r.Method, r.URL.Path, route.Operation.OperationID, status)
	}
}

func (s *Sim) rateHeaders(h http.Header, cred string, status int) {
	if cred == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	used := s.remaining[cred]
	if status == http.StatusNotModified && used > 0 {
		used-- // a 304 is free
		s.remaining[cred] = used
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(RateLimit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, RateLimit-used)))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.now().Add(time.Hour).Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

// RateUsed is how much of the primary rate limit a credential ("app" or
// "installation:ID") has used; 304s are free.
func (s *Sim) RateUsed(cred string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.remaining[cred]
}

func bearer(r *http.Request) string {
	a := r.Header.Get("Authorization")
	for _, p := range []string{"Bearer ", "bearer ", "token ", "Token "} {
		if t, ok := strings.CutPrefix(a, p); ok {
			return t
		}
	}
	return ""
}

// documented: GitHub answers 401, 404 or 422 on operations whose
// description does not list them; only described answers can be checked.
func documented(route *routers.Route, status int) bool {
	return route.Operation.Responses.Status(status) != nil || route.Operation.Responses.Default() != nil
}
