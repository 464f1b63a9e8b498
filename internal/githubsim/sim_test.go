package githubsim_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ferry-ci/ferry/internal/githubsim"
)

// reporter stands in for *testing.T to catch what the simulator reports.
type reporter struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *reporter) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *reporter) reported() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errs, "\n")
}

func appJWT(t *testing.T, key []byte, issuer string, iat, exp time.Time) string {
	t.Helper()
	block, _ := pem.Decode(key)
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer: issuer, IssuedAt: jwt.NewNumericDate(iat), ExpiresAt: jwt.NewNumericDate(exp)}).SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// send makes one request to the simulator as a GitHub client would.
func send(t *testing.T, sim *githubsim.Sim, method, path, auth, body string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(sim.URL(), "/")+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.github.v3+json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func do(t *testing.T, sim *githubsim.Sim, method, path, auth, body string) (int, string) {
	t.Helper()
	resp, b := send(t, sim, method, path, auth, body)
	return resp.StatusCode, b
}

func TestAuthentication(t *testing.T) {
	sim := githubsim.New(t, githubsim.Config{})
	sim.AddInstallation(1, "acme")
	sim.AddRepo(1, "acme/api")
	sim.AddInstallation(2, "other")
	now := time.Now()
	app := strconv.FormatInt(sim.AppID(), 10)
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	foreign := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(otherKey)})
	tests := []struct {
		name, method, path, auth, body string
		want                           int
	}{
		{"app call without credentials", "GET", "/app/installations", "", "", 401},
		{"app call with a token, not a JWT", "GET", "/app/installations", "token " + sim.InstallationToken(1), "", 401},
		{"JWT signed by another key", "GET", "/app/installations", "Bearer " + appJWT(t, foreign, app, now, now.Add(time.Minute)), "", 401},
		{"expired JWT", "GET", "/app/installations", "Bearer " + appJWT(t, sim.PrivateKeyPEM(), app, now.Add(-20*time.Minute), now.Add(-10*time.Minute)), "", 401},
		{"JWT of another App", "GET", "/app/installations", "Bearer " + appJWT(t, sim.PrivateKeyPEM(), "1", now, now.Add(time.Minute)), "", 401},
		{"JWT longer than 10 minutes", "GET", "/app/installations", "Bearer " + appJWT(t, sim.PrivateKeyPEM(), app, now, now.Add(time.Hour)), "", 401},
		{"valid JWT", "GET", "/app/installations", "Bearer " + appJWT(t, sim.PrivateKeyPEM(), app, now, now.Add(time.Minute)), "", 200},
		{"token for an unknown installation", "POST", "/app/installations/9/access_tokens", "Bearer " + appJWT(t, sim.PrivateKeyPEM(), app, now, now.Add(time.Minute)), "{}", 404},
		{"repository call without a token", "GET", "/repos/acme/api", "", "", 401},
		{"repository call with a JWT", "GET", "/repos/acme/api", "Bearer " + appJWT(t, sim.PrivateKeyPEM(), app, now, now.Add(time.Minute)), "", 401},
		{"token of another installation", "GET", "/repos/acme/api", "token " + sim.InstallationToken(2), "", 404},
		{"token of the installation", "GET", "/repos/acme/api", "token " + sim.InstallationToken(1), "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, body := do(t, sim, tt.method, tt.path, tt.auth, tt.body); got != tt.want {
				t.Fatalf("status %d, want %d: %s", got, tt.want, body)
			}
		})
	}
	expired := sim.InstallationToken(1)
	sim.ExpireTokens()
	if got, _ := do(t, sim, "GET", "/repos/acme/api", "token "+expired, ""); got != 401 {
		t.Fatalf("expired token: %d", got)
	}
}

// TestInvalidRequestFailsTheTest: a request GitHub's description forbids
// fails the test that made it, naming the violation.
func TestInvalidRequestFailsTheTest(t *testing.T) {
	rep := &reporter{TB: t}
	sim := githubsim.New(rep, githubsim.Config{})
	sim.AddInstallation(1, "acme")
	sim.AddRepo(1, "acme/api")
	tok := "token " + sim.InstallationToken(1)
	tests := []struct {
		name, method, path, body, report string
	}{
		{"body missing a required property", "POST", "/repos/acme/api/check-runs", `{"name":"ferry/risk"}`, `property "head_sha" is missing`},
		{"wrong type in the body", "POST", "/repos/acme/api/issues/1/comments", `{"body":42}`, `Error at "/body"`},
		{"bad enum value", "POST", "/repos/acme/api/check-runs", `{"name":"x","head_sha":"abc","status":"finished"}`, `status`},
		{"bad query parameter", "GET", "/repos/acme/api/pulls?state=merged", "", `state`},
		{"not an operation", "GET", "/repos/acme/api/frobnicate", "", `not an operation`},
	}
	for _, tt := range tests {
		rep.errs = nil
		status, _ := do(t, sim, tt.method, tt.path, tok, tt.body)
		if status < 400 {
			t.Errorf("%s: answered %d", tt.name, status)
		}
		if got := rep.reported(); !strings.Contains(got, tt.report) {
			t.Errorf("%s: reported %q, want it to mention %q", tt.name, got, tt.report)
		}
	}
}

func TestPaginationAndRateHeaders(t *testing.T) {
	sim := githubsim.New(t, githubsim.Config{})
	sim.AddInstallation(1, "acme")
	sim.AddRepo(1, "acme/api")
	for i := range 13 {
		sim.AddIssue("acme/api", fmt.Sprint("issue ", i))
	}
	tok := sim.InstallationToken(1)
	req, _ := http.NewRequest("GET", sim.URL()+"repos/acme/api/issues?per_page=5&page=2", nil)
	req.Header.Set("Authorization", "token "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	link := resp.Header.Get("Link")
	for _, want := range []string{`page=1&per_page=5>; rel="prev"`, `page=3&per_page=5>; rel="next"`, `rel="last"`, `rel="first"`} {
		if !strings.Contains(link, want) {
			t.Errorf("Link %q lacks %q", link, want)
		}
	}
	if resp.Header.Get("X-RateLimit-Limit") != "5000" || resp.Header.Get("X-RateLimit-Remaining") != "4999" {
		t.Errorf("rate headers: %v", resp.Header)
	}
}
