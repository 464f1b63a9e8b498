package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/fixture"
)

// serveLines runs `ferry serve` in this process and returns the first n
// lines it prints on stdout and what it logs; it stops when the test ends.
func serveLines(t *testing.T, n int, args ...string) ([]string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen=127.0.0.1:0", "--database=" + dbtest.SQLiteURL(t)}, args...), pw, stderr)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ferry serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("ferry serve did not stop")
		}
	})
	r := bufio.NewReader(pr)
	var lines []string
	for range n {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("ferry serve printed %q, then %v; stderr:\n%s", lines, err, stderr)
		}
		lines = append(lines, line)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return lines, stderr
}

// urlIn is the first http:// address in a line.
func urlIn(t *testing.T, line string) string {
	t.Helper()
	_, rest, ok := strings.Cut(line, "listening on ")
	if !ok {
		t.Fatalf("no address in %q", line)
	}
	return strings.Fields(rest)[0]
}

func getURL(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServe_AdminListener: with --admin-listen, the public address serves
// the webhook and /healthz only; metrics and readiness are on the admin
// address, printed on the second line (the first keeps its shape).
func TestServe_AdminListener(t *testing.T) {
	t.Setenv("FERRY_WEBHOOK_SECRET", string(testSecret))
	lines, _ := serveLines(t, 2, "--admin-listen=127.0.0.1:0")
	if !strings.HasPrefix(lines[0], "ferry ") || !strings.Contains(lines[0], "(workers: ") {
		t.Fatalf("first line %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "admin listening on http://") {
		t.Fatalf("second line %q", lines[1])
	}
	public, admin := urlIn(t, lines[0]), urlIn(t, lines[1])
	s := &server{url: public}
	if got := s.deliver(t, testSecret, "installation", "admin-1", fixture.Payload("installation", "created.payload.json")); got != http.StatusAccepted {
		t.Fatalf("delivery on the public address: %d", got)
	}
	for _, c := range []struct {
		url  string
		want int
		body string
	}{
		{public + "/healthz", 200, "ok"},
		{public + "/metrics", 404, ""},
		{public + "/readyz", 404, ""},
		{admin + "/healthz", 200, "ok"},
		{admin + "/readyz", 200, "ready"},
		{admin + "/metrics", 200, `ferry_webhook_deliveries_total{event="installation",outcome="accepted"} 1`},
		{admin + "/webhook", 404, ""},
	} {
		code, body := getURL(t, c.url)
		if code != c.want || !strings.Contains(body, c.body) {
			t.Errorf("GET %s: %d %.80q, want %d containing %q", c.url, code, body, c.want, c.body)
		}
	}
}

// TestReadiness_CachedCheck: a flood of /readyz makes one check of the
// real database per readyTTL, and a failing database is reported.
func TestReadiness_CachedCheck(t *testing.T) {
	db := dbtest.Open(t, dbtest.SQLiteURL(t))
	var checks atomic.Int32
	var mu sync.Mutex
	now := time.Now()
	r := &readiness{
		check: func(ctx context.Context) error { checks.Add(1); return dbReady(ctx, db) },
		ttl:   readyTTL,
		now:   func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		log:   slog.New(slog.DiscardHandler),
	}
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	srv := httptest.NewServer(r)
	defer srv.Close()
	flood := func(want int) {
		t.Helper()
		var wg sync.WaitGroup
		for range 200 {
			wg.Go(func() {
				resp, err := http.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("readyz %d, want %d", resp.StatusCode, want)
				}
			})
		}
		wg.Wait()
	}
	flood(http.StatusOK)
	if n := checks.Load(); n != 1 {
		t.Fatalf("200 probes made %d checks, want 1", n)
	}
	advance(readyTTL)
	flood(http.StatusOK)
	if n := checks.Load(); n != 2 {
		t.Fatalf("after the TTL: %d checks, want 2", n)
	}
	db.Close()
	advance(readyTTL)
	flood(http.StatusServiceUnavailable)
	if n := checks.Load(); n != 3 {
		t.Fatalf("with the database closed: %d checks, want 3", n)
	}
}

// TestServe_SecretOnCommandLineWarns: a secret typed as --webhook-secret
// is visible in ps; ferry says so. From the environment or a file it is
// not, and ferry is quiet about it.
func TestServe_SecretOnCommandLineWarns(t *testing.T) {
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, append(testSecret, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		env  string
		args []string
		warn bool
	}{
		{"flag", "", []string{"--webhook-secret=" + string(testSecret)}, true},
		{"flag, separate value", "", []string{"--webhook-secret", string(testSecret)}, true},
		{"environment", string(testSecret), nil, false},
		{"file", "", []string{"--webhook-secret-file=" + file}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("FERRY_WEBHOOK_SECRET", c.env)
			_, stderr := serveLines(t, 1, c.args...)
			logs := stderr.String()
			if got := strings.Contains(logs, "--webhook-secret on the command line"); got != c.warn {
				t.Errorf("warned %v, want %v; logs:\n%s", got, c.warn, logs)
			}
			if strings.Contains(logs, string(testSecret)) {
				t.Error("the secret is in the logs")
			}
		})
	}
}
