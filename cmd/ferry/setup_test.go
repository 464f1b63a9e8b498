package main

import (
	"bufio"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/manifest"
)

const conversion = "apps/create-from-manifest"

// setupRun is ferry setup running in this process.
type setupRun struct {
	base   string // the local page, "" when setup stopped before serving it
	done   chan error
	stdout *syncBuffer
	stderr *syncBuffer
}

var openLine = regexp.MustCompile(`open (http://\S+)/ in a browser`)

// startSetup runs ferry setup against the simulator (both its web and API
// sides) and returns once it serves its page, or has stopped.
func startSetup(t *testing.T, sim *githubsim.Sim, args ...string) *setupRun {
	t.Helper()
	all := append([]string{"setup", "--github-url=" + sim.WebURL(), "--github-api-url=" + sim.URL(),
		"--url=https://ferry.example.test", "--log-level=warn"}, args...)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pr, pw := io.Pipe()
	r := &setupRun{done: make(chan error, 1), stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	go func() {
		r.done <- run(ctx, all, r.stdout, pw)
		pw.Close()
	}()
	br := bufio.NewReader(pr)
	line, _ := br.ReadString('\n')
	_, _ = r.stderr.Write([]byte(line))
	go func() { _, _ = io.Copy(r.stderr, br) }()
	if m := openLine.FindStringSubmatch(line); m != nil {
		r.base = m[1]
	}
	return r
}

func (r *setupRun) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatalf("ferry setup did not stop; stderr:\n%s", r.stderr)
		return nil
	}
}

var (
	formAction   = regexp.MustCompile(`<form id="register" method="post" action="([^"]*)"`)
	formManifest = regexp.MustCompile(`name="manifest" value="([^"]*)"`)
	noRedirects  = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
)

// loadSetupPage loads setup's page as a browser and reads its form.
func loadSetupPage(t *testing.T, base string) (action *url.URL, manifestJSON, body string) {
	t.Helper()
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	a, m := formAction.FindStringSubmatch(string(b)), formManifest.FindStringSubmatch(string(b))
	if resp.StatusCode != 200 || a == nil || m == nil {
		t.Fatalf("setup page: %d\n%s", resp.StatusCode, b)
	}
	action, err = url.Parse(html.UnescapeString(a[1]))
	if err != nil {
		t.Fatal(err)
	}
	return action, html.UnescapeString(m[1]), string(b)
}

// browse plays the browser up to GitHub's redirect: it loads setup's page,
// posts its form to the simulated github.com and returns the address
// GitHub sends the browser back to.
func browse(t *testing.T, base string) *url.URL {
	t.Helper()
	action, m, _ := loadSetupPage(t, base)
	resp, err := noRedirects.PostForm(action.String(), url.Values{"manifest": {m}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("GitHub answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return back
}

// visit GETs u with an optional Host header, as the browser or an attacker.
func visit(t *testing.T, u, host string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// registerApp runs the whole flow and returns setup's stdout.
func registerApp(t *testing.T, sim *githubsim.Sim, args ...string) (*setupRun, string) {
	t.Helper()
	r := startSetup(t, sim, args...)
	if r.base == "" {
		t.Fatalf("setup did not start: %v\n%s", r.wait(t), r.stderr)
	}
	if status := visit(t, browse(t, r.base).String(), ""); status != 200 {
		t.Fatalf("callback answered %d; stderr:\n%s", status, r.stderr)
	}
	if err := r.wait(t); err != nil {
		t.Fatalf("setup: %v\n%s", err, r.stderr)
	}
	return r, r.stdout.String()
}

// outDir is a fresh --out: setup makes it 0700 (t.TempDir is open to others).
func outDir(t *testing.T) string { return filepath.Join(t.TempDir(), "ferry-app") }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSetup_WritesCredentialsAndTheServeLineWorks: the browser posts
// ferry's manifest (its own permissions and events, this installation's
// addresses) to GitHub and comes back; setup writes the App's credentials
// in 0600 files of a 0700 directory, prints the install link and a serve
// line, never a secret; ferry started with that very line is the App.
func TestSetup_WritesCredentialsAndTheServeLineWorks(t *testing.T) {
	sim, _ := newSim(t)
	dir := filepath.Join(t.TempDir(), "creds")
	r, out := registerApp(t, sim, "--out="+dir, "--name=ferry-acme")

	checkPostedManifest(t, sim, r.base)
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory: %v %v", fi.Mode(), err)
	}
	want := map[string]string{"app-id": strconv.FormatInt(sim.AppID(), 10), "private-key.pem": string(sim.PrivateKeyPEM()),
		"webhook-secret": simSecret}
	for _, name := range credentialNames {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() == 0 {
			t.Fatalf("%s: %v %v", name, fi, err)
		}
		if w, ok := want[name]; ok && readFile(t, filepath.Join(dir, name)) != w {
			t.Errorf("%s: wrong content", name)
		}
	}
	if !strings.Contains(out, "  "+sim.WebURL()+"/apps/ferry/installations/new\n") {
		t.Errorf("no install link:\n%s", out)
	}
	for _, secret := range []string{simSecret, readFile(t, filepath.Join(dir, "client-secret")), "PRIVATE KEY"} {
		if strings.Contains(out+r.stderr.String(), secret) {
			t.Errorf("setup printed a secret:\n%s%s", out, r.stderr)
		}
	}
	serveWithPrintedLine(t, sim, out)
}

// checkPostedManifest: GitHub received manifest/github-app.json's
// permissions and events with this setup's name and addresses.
func checkPostedManifest(t *testing.T, sim *githubsim.Sim, base string) {
	t.Helper()
	apps := sim.CreatedApps()
	if len(apps) != 1 {
		t.Fatalf("created apps: %+v", apps)
	}
	var posted, file map[string]any
	if err := json.Unmarshal(apps[0].Manifest, &posted); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(manifest.AppManifest, &file); err != nil {
		t.Fatal(err)
	}
	file["name"], file["url"], file["redirect_url"] = "ferry-acme", "https://ferry.example.test", base+"/setup/callback"
	file["hook_attributes"] = map[string]any{"url": "https://ferry.example.test/webhook", "active": true}
	if d := cmp.Diff(file, posted); d != "" {
		t.Errorf("posted manifest (-want +got):\n%s", d)
	}
}

// serveWithPrintedLine starts ferry with the serve line setup printed: the
// simulator's installation event is accepted and its repositories read
// with the App's credentials.
func serveWithPrintedLine(t *testing.T, sim *githubsim.Sim, out string) {
	t.Helper()
	var args []string
	for line := range strings.SplitSeq(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "  ferry serve "); ok {
			args = strings.Fields(rest)
		}
	}
	if !slices.Contains(args, "--github-api-url="+sim.URL()) {
		t.Fatalf("serve line %q lacks the API URL; output:\n%s", args, out)
	}
	dsn := dbtest.SQLiteURL(t)
	sim.SetWebhookURL(startInProcess(t, append(args, "--database="+dsn)...) + "/webhook")
	if _, status := sim.InstallationCreated(31); status != 202 {
		t.Fatalf("installation event answered %d", status)
	}
	db := dbtest.Open(t, dsn)
	waitFor(t, "the installation's repositories", func() bool {
		repos, err := db.Repositories(context.Background(), 31)
		return err == nil && len(repos) == 1
	})
}

// TestSetup_K8sSecret: --format k8s-secret prints a v1 Secret named
// ferry-github with the credentials under the file names, writes no file,
// and says the rest on stderr; --org registers under the organization.
func TestSetup_K8sSecret(t *testing.T) {
	sim, _ := newSim(t)
	dir := filepath.Join(t.TempDir(), "never")
	r, out := registerApp(t, sim, "--format=k8s-secret", "--org=acme", "--out="+dir)
	var s corev1.Secret
	if err := yaml.UnmarshalStrict([]byte(out), &s); err != nil {
		t.Fatalf("stdout is not a Secret: %v\n%s", err, out)
	}
	if s.APIVersion != "v1" || s.Kind != "Secret" || s.Name != "ferry-github" || s.Type != corev1.SecretTypeOpaque {
		t.Errorf("secret %+v", s.TypeMeta)
	}
	var keys []string
	for k := range s.StringData {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if d := cmp.Diff([]string{"app-id", "client-id", "client-secret", "private-key.pem", "webhook-secret"}, keys); d != "" {
		t.Errorf("keys (-want +got):\n%s", d)
	}
	if s.StringData["private-key.pem"] != string(sim.PrivateKeyPEM()) || s.StringData["webhook-secret"] != simSecret ||
		s.StringData["app-id"] != strconv.FormatInt(sim.AppID(), 10) {
		t.Error("wrong credentials in the Secret")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("--out was made: %v", err)
	}
	if apps := sim.CreatedApps(); len(apps) != 1 || apps[0].Org != "acme" {
		t.Errorf("created apps %+v", apps)
	}
	if e := r.stderr.String(); !strings.Contains(e, "--github-private-key-file=/etc/ferry/github/private-key.pem") ||
		!strings.Contains(e, "/installations/new") {
		t.Errorf("stderr:\n%s", e)
	}
}

// TestSetup_ReusedCode: a code already traded is refused by GitHub (404);
// setup says so and writes nothing.
func TestSetup_ReusedCode(t *testing.T) {
	sim, _ := newSim(t)
	first := startSetup(t, sim, "--out="+outDir(t))
	back := browse(t, first.base)
	if visit(t, back.String(), "") != 200 || first.wait(t) != nil {
		t.Fatalf("first setup failed:\n%s", first.stderr)
	}
	dir := filepath.Join(t.TempDir(), "second")
	second := startSetup(t, sim, "--out="+dir, "--name=ferry-two")
	action, _, _ := loadSetupPage(t, second.base)
	replay := second.base + "/setup/callback?" + url.Values{"code": {back.Query().Get("code")}, "state": {action.Query().Get("state")}}.Encode()
	if status := visit(t, replay, ""); status != http.StatusBadGateway {
		t.Errorf("callback answered %d", status)
	}
	err := second.wait(t)
	if err == nil || !strings.Contains(err.Error(), "already used, or it expired") {
		t.Fatalf("want a clear error, got %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 || sim.Count(conversion, 404) != 1 {
		t.Errorf("files %v, refused conversions %d", entries, sim.Count(conversion, 404))
	}
}

// TestSetup_ExpiredCode: a code older than GitHub's hour is refused (404).
func TestSetup_ExpiredCode(t *testing.T) {
	var skew atomic.Int64
	sim := githubsim.New(t, githubsim.Config{Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	r := startSetup(t, sim, "--out="+outDir(t))
	back := browse(t, r.base)
	skew.Store(int64(61 * time.Minute)) // the browser came back an hour late
	if status := visit(t, back.String(), ""); status != http.StatusBadGateway {
		t.Errorf("callback answered %d", status)
	}
	if err := r.wait(t); err == nil || !strings.Contains(err.Error(), "expired") || exitCode(err, io.Discard) != 1 {
		t.Fatalf("want a clear error, got %v", err)
	}
}

// TestSetup_NameTaken: GitHub refuses a second App of the same name (422);
// setup says names are unique and how to choose another.
func TestSetup_NameTaken(t *testing.T) {
	sim, _ := newSim(t)
	registerApp(t, sim, "--out="+outDir(t))
	r := startSetup(t, sim, "--out="+outDir(t))
	if status := visit(t, browse(t, r.base).String(), ""); status != http.StatusBadGateway {
		t.Errorf("callback answered %d", status)
	}
	err := r.wait(t)
	if err == nil || !strings.Contains(err.Error(), "unique") || !strings.Contains(err.Error(), "--name") {
		t.Fatalf("want a clear error, got %v", err)
	}
}

// TestSetup_RefusesToOverwrite: credentials already in --out stop setup
// before GitHub is asked anything; --force replaces them with 0600 files.
func TestSetup_RefusesToOverwrite(t *testing.T) {
	sim, _ := newSim(t)
	dir := outDir(t)
	key := filepath.Join(dir, "private-key.pem")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startSetup(t, sim, "--out="+dir)
	err := r.wait(t)
	if r.base != "" || err == nil || !strings.Contains(err.Error(), "--force") || exitCode(err, io.Discard) != 2 {
		t.Fatalf("want a refusal, got %v (serving %q)", err, r.base)
	}
	if readFile(t, key) != "old" {
		t.Fatal("the old key was touched")
	}
	registerApp(t, sim, "--out="+dir, "--force")
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 || readFile(t, key) != string(sim.PrivateKeyPEM()) {
		t.Errorf("replaced key: %v %v", fi.Mode(), err)
	}
}

// TestSetup_BadSettings are refused before anything listens (exit code 2).
func TestSetup_BadSettings(t *testing.T) {
	sim, _ := newSim(t)
	open := t.TempDir()
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, arg, want string }{
		{"plain http public URL", "--url=http://ferry.example.test", "--url"},
		{"listening beyond this machine", "--listen=0.0.0.0:0", "loopback"},
		{"bad organization", "--org=../acme", "--org"},
		{"name too long", "--name=" + strings.Repeat("n", 35), "--name"},
		{"directory open to others", "--out=" + open, "open to other users"},
		{"unknown format", "--format=json", "--format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startSetup(t, sim, append([]string{"--out=" + outDir(t)}, tc.arg)...)
			err := r.wait(t)
			if r.base != "" || err == nil || !strings.Contains(err.Error(), tc.want) || exitCode(err, io.Discard) != 2 {
				t.Fatalf("got %v (serving %q), want a usage error naming %s", err, r.base, tc.want)
			}
		})
	}
}

// TestSetup_Timeout: nobody came back from GitHub in time.
func TestSetup_Timeout(t *testing.T) {
	sim, _ := newSim(t)
	r := startSetup(t, sim, "--out="+outDir(t), "--timeout=1s")
	if err := r.wait(t); err == nil || !strings.Contains(err.Error(), "--timeout") {
		t.Fatalf("got %v", err)
	}
}
