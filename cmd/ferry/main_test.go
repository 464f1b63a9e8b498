package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/fixture"
)

// The test binary doubles as the ferry binary: tests that need a real
// process (kill -9, SIGTERM) re-execute it with this variable set.
const asMain = "FERRY_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestSettings(t *testing.T) {
	dir := t.TempDir()
	emptyFile := filepath.Join(dir, "empty")
	notKey := filepath.Join(dir, "not-a-key.pem")
	_ = os.WriteFile(emptyFile, []byte("\n"), 0o600)
	_ = os.WriteFile(notKey, []byte("hello"), 0o600)
	shortFile := filepath.Join(dir, "short")
	_ = os.WriteFile(shortFile, []byte("fifteen bytes!!\n"), 0o600)
	db := "--database=sqlite:" + filepath.Join(dir, "f.db")
	secret := "--webhook-secret=" + string(testSecret)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // in the one error line
	}{
		{"no secret", []string{"serve", db}, nil, "--webhook-secret (FERRY_WEBHOOK_SECRET): required"},
		{"both secrets", []string{"serve", db, secret, "--webhook-secret-file=" + emptyFile}, nil, "not both"},
		{"empty secret file", []string{"serve", db, "--webhook-secret-file=" + emptyFile}, nil, "--webhook-secret-file (FERRY_WEBHOOK_SECRET_FILE):"},
		{"missing secret file", []string{"serve", db, "--webhook-secret-file=/nonexistent"}, nil, "cannot read"},
		{"bad listen", []string{"serve", db, secret, "--listen=nope"}, nil, "--listen (FERRY_LISTEN): must be HOST:PORT"},
		{"bad listen from env", []string{"serve", db, secret}, map[string]string{"FERRY_LISTEN": "nope"}, "--listen (FERRY_LISTEN)"},
		{"bad database", []string{"serve", "--database=mysql://x", secret}, nil, "--database (FERRY_DATABASE): must be sqlite:PATH or postgres://"},
		{"password hidden", []string{"serve", "--database=mysql://u:hunter2@x", secret}, nil, "xxxxx"},
		{"bad workers from env", []string{"serve", db, secret}, map[string]string{"FERRY_WORKERS": "many"}, "--workers (FERRY_WORKERS)"},
		{"negative workers", []string{"serve", db, secret, "--workers=-1"}, nil, "--workers (FERRY_WORKERS): must be 0 or more"},
		{"bad log format", []string{"serve", db, secret, "--log-format=xml"}, nil, "--log-format (FERRY_LOG_FORMAT): must be text or json"},
		{"app id without key", []string{"serve", db, secret, "--github-app-id=1"}, nil, "--github-private-key-file (FERRY_GITHUB_PRIVATE_KEY_FILE): required"},
		{"key that is not a key", []string{"serve", db, secret, "--github-app-id=1", "--github-private-key-file=" + notKey}, nil, "not a PEM file"},
		{"bad api url", []string{"serve", db, secret, "--github-api-url=ftp://x"}, nil, "--github-api-url (FERRY_GITHUB_API_URL)"},
		{"short secret", []string{"serve", db, "--webhook-secret=fifteen bytes!!"}, nil, "--webhook-secret (FERRY_WEBHOOK_SECRET): the secret must be at least 16 bytes, got 15"},
		{"short secret from env", []string{"serve", db}, map[string]string{"FERRY_WEBHOOK_SECRET": "short"}, "--webhook-secret (FERRY_WEBHOOK_SECRET): the secret must be at least 16 bytes"},
		{"short secret file", []string{"serve", db, "--webhook-secret-file=" + shortFile}, nil, "--webhook-secret-file (FERRY_WEBHOOK_SECRET_FILE): the secret must be at least 16 bytes, got 15"},
		{"plain http api url", []string{"serve", db, secret, "--github-api-url=http://github.example.com/api/v3/"}, nil, "--github-api-url (FERRY_GITHUB_API_URL): http:// only for a loopback host"},
		{"plain http to a look-alike of loopback", []string{"serve", db, secret, "--github-api-url=http://127.0.0.1.example.com/"}, nil, "http:// only for a loopback host"},
		{"plain http api url from env", []string{"serve", db, secret}, map[string]string{"FERRY_GITHUB_API_URL": "http://10.0.0.1/"}, "--github-api-url (FERRY_GITHUB_API_URL)"},
		{"bad admin listen", []string{"serve", db, secret, "--admin-listen=nope"}, nil, "--admin-listen (FERRY_ADMIN_LISTEN): must be HOST:PORT"},
		{"in-flight budget under one payload", []string{"serve", db, secret, "--webhook-max-inflight-bytes=1048576"}, nil, "--webhook-max-inflight-bytes (FERRY_WEBHOOK_MAX_INFLIGHT_BYTES): must be at least 26214400"},
		{"unknown flag", []string{"serve", "--nope"}, nil, "unknown flag --nope"},
		{"no command", nil, nil, "expected one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := exitCode(run(context.Background(), tt.args, &stdout, &stderr), &stderr)
			msg := stderr.String()
			if code != 2 {
				t.Fatalf("exit %d, want 2 (%q)", code, msg)
			}
			if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, tt.want) {
				t.Fatalf("message %q, want one line containing %q", msg, tt.want)
			}
			if strings.Contains(msg, "hunter2") {
				t.Fatalf("password in message %q", msg)
			}
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "ferry ") {
		t.Fatalf("version: %q, %v", out.String(), err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"serve", "--help"}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "FERRY_WEBHOOK_SECRET") {
		t.Fatalf("help: %v\n%s", err, out.String())
	}
}

// server is a ferry serve process started from the test binary.
type server struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startServe(t testing.TB, args ...string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--listen=127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), asMain+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.done
		if t.Failed() {
			t.Logf("ferry serve stderr:\n%s", s.stderr)
		}
	})
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-lines:
		_, rest, ok := strings.Cut(line, "listening on ")
		if !ok {
			t.Fatalf("unexpected first line %q; stderr:\n%s", line, s.stderr)
		}
		s.url = strings.Fields(rest)[0]
	case <-time.After(60 * time.Second):
		t.Fatalf("ferry serve did not start; stderr:\n%s", s.stderr)
	}
	return s
}

func (s *server) deliver(t *testing.T, secret []byte, ev, id string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+"/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", ev)
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", fixture.Sign(secret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (s *server) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(25 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

var testSecret = []byte("a webhook secret that must never be logged")

// TestServe_AsTheREADMESays: a signed fixture is accepted (202), its
// duplicate answered 200, a bad signature refused (401); health, readiness
// and metrics answer; SIGTERM stops cleanly; the secret is never logged.
func TestServe_AsTheREADMESays(t *testing.T) {
	dsn := dbtest.SQLiteURL(t)
	t.Setenv("FERRY_WEBHOOK_SECRET", string(testSecret)) // via the environment, as the README shows
	s := startServe(t, "--database="+dsn, "--log-format=json", "--log-level=debug")
	body := fixture.Payload("installation", "created.payload.json")
	for _, c := range []struct {
		secret []byte
		id     string
		want   int
	}{{testSecret, "readme-1", 202}, {testSecret, "readme-1", 200}, {[]byte("wrong"), "readme-2", 401}} {
		if got := s.deliver(t, c.secret, "installation", c.id, body); got != c.want {
			t.Fatalf("delivery %s: %d, want %d", c.id, got, c.want)
		}
	}
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": `ferry_webhook_deliveries_total{event="installation",outcome="duplicate"} 1`} {
		code, b := s.get(t, path)
		if code != 200 || !strings.Contains(b, want) {
			t.Fatalf("GET %s: %d %q, want 200 containing %q", path, code, b, want)
		}
	}
	db := dbtest.Open(t, dsn)
	waitFor(t, "the installation job", func() bool {
		d, err := db.GetDelivery(context.Background(), "readme-1")
		return err == nil && d.Status == "done"
	})
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		s.done <- err // for Cleanup
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	if strings.Contains(s.stderr.String(), string(testSecret)) {
		t.Fatal("the webhook secret appears in the logs")
	}
}

// TestServe_CrashSafety: a delivery acknowledged with 202 survives SIGKILL
// before its job ran, and after restart its job completes exactly once.
func TestServe_CrashSafety(t *testing.T) {
	dbs := map[string]func(testing.TB) string{"sqlite": dbtest.SQLiteURL, "postgres": dbtest.PostgresURL}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			dsn := dbs[name](t)
			secretArg := "--webhook-secret=" + string(testSecret)
			// Workers 0: an ingest-only process, so the job cannot have run
			// when the process dies.
			s := startServe(t, "--database="+dsn, secretArg, "--workers=0")
			body := fixture.Payload("installation", "created.payload.json")
			if got := s.deliver(t, testSecret, "installation", "crash-1", body); got != http.StatusAccepted {
				t.Fatalf("delivery: %d", got)
			}
			if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-s.done
			s.done <- nil

			s2 := startServe(t, "--database="+dsn, secretArg, "--workers=2")
			if got := s2.deliver(t, testSecret, "installation", "crash-1", body); got != http.StatusOK {
				t.Fatalf("redelivery after restart: %d, want 200 (duplicate)", got)
			}
			db := dbtest.Open(t, dsn)
			waitFor(t, "the job to complete after restart", func() bool {
				var n int
				err := db.SQL().QueryRow(`SELECT COUNT(*) FROM river_job WHERE state = 'completed'`).Scan(&n)
				return err == nil && n > 0
			})
			if d, err := db.GetDelivery(context.Background(), "crash-1"); err != nil || d.Status != "done" {
				t.Fatalf("delivery %+v, %v; want done", d.Status, err)
			}
			var jobs, attempts int
			var state string
			row := db.SQL().QueryRow(`SELECT COUNT(*), MAX(state), MAX(attempt) FROM river_job`)
			if err := row.Scan(&jobs, &state, &attempts); err != nil {
				t.Fatal(err)
			}
			if jobs != 1 || state != "completed" || attempts != 1 {
				t.Fatalf("jobs=%d state=%s attempts=%d, want one job completed on its first attempt", jobs, state, attempts)
			}
			repos, err := db.Repositories(context.Background(), 957387)
			if err != nil || len(repos) != 1 {
				t.Fatalf("repositories %v, %v", repos, err)
			}
		})
	}
}
