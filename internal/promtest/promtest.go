// Package promtest gives tests the real Prometheus `make test` starts
// (.ci/prometheus, scraping every second) and a small HTTP application
// (testapp, its own process) whose error rate and latency the test sets per
// track (canary, stable). The
// pods in the test Kubernetes cluster are fake (kwok): nothing runs in
// them, so a test that deploys a canary tells this application which
// track's behaviour to change — that is the bridge between the two.
package promtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/testenv"
)

// URL is the test Prometheus' address.
func URL(t testing.TB) string {
	t.Helper()
	return testenv.Require(t, "FERRY_TEST_PROMETHEUS", "the URL of a test Prometheus: .ci/prometheus start")
}

// targetsDir is where .ci/prometheus reads scrape targets.
func targetsDir() string {
	if d := os.Getenv("FERRY_PROM_DIR"); d != "" {
		return filepath.Join(d, "targets")
	}
	return "/tmp/ferry-test-prom/targets"
}

// Behaviour is what one track's requests do.
type Behaviour struct {
	ErrorRate float64       // share of requests answered 500
	Latency   time.Duration // typical latency (observed with ±20% jitter)
}

// App is the test application (testapp), running as its own process.
type App struct {
	Job  string // the label Prometheus gives its series: app="<Job>"
	addr string
	stop func()
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// build compiles testapp once per test binary (the go build cache makes
// later builds quick).
func build() (string, error) {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ferry-testapp-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "testapp")
		out, err := exec.Command("go", "build", "-o", binary, "github.com/ferry-ci/ferry/internal/promtest/testapp").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build testapp: %v\n%s", err, out)
		}
	})
	return binary, buildErr
}

// StartApp starts the test application as a process with rps requests
// per second per track, scraped by the test Prometheus under the label
// app=<name> (and labels), and stops it when the test ends.
func StartApp(t testing.TB, name string, rps int, tracks map[string]Behaviour, labels ...map[string]string) *App {
	t.Helper()
	bin, err := build()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-rps", fmt.Sprint(rps))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("testapp did not start: %v", err)
	}
	a := &App{Job: name, addr: strings.TrimSpace(line)}
	for track, b := range tracks {
		a.Set(track, b)
	}
	all := map[string]string{"app": name}
	for _, l := range labels {
		maps.Copy(all, l)
	}
	target := []map[string]any{{"targets": []string{a.addr}, "labels": all}}
	body, _ := json.Marshal(target)
	file := filepath.Join(targetsDir(), name+".json")
	if err := os.WriteFile(file+".tmp", body, 0o644); err != nil {
		t.Fatalf("register scrape target: %v", err)
	}
	if err := os.Rename(file+".tmp", file); err != nil {
		t.Fatal(err)
	}
	a.stop = sync.OnceFunc(func() {
		os.Remove(file)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	t.Cleanup(a.Stop)
	return a
}

// Stop ends the application and its scrape target (also at the test's
// end): benchmarks that start hundreds stop each when done.
func (a *App) Stop() { a.stop() }

// Set changes a track's behaviour from now on.
func (a *App) Set(track string, b Behaviour) {
	resp, err := http.PostForm("http://"+a.addr+"/behaviour", url.Values{"track": {track},
		"error_rate": {fmt.Sprint(b.ErrorRate)}, "latency": {b.Latency.String()}})
	if err == nil {
		resp.Body.Close()
	}
	if err != nil || resp.StatusCode != http.StatusOK {
		panic(fmt.Sprintf("testapp: set %s: %v", track, err)) // a test defect
	}
}

// ErrorRatio is the PromQL of a track's error share over window.
func (a *App) ErrorRatio(track, window string) string {
	sel := fmt.Sprintf(`app=%q,track=%q`, a.Job, track)
	// "or vector(0)": a window without a single error is a rate of 0, not missing data.
	return fmt.Sprintf(`(sum(rate(http_requests_total{%s,code="500"}[%s])) or vector(0)) / sum(rate(http_requests_total{%s}[%s]))`, sel, window, sel, window)
}

// P99 is the PromQL of a track's 99th percentile latency over window.
func (a *App) P99(track, window string) string {
	return fmt.Sprintf(`histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{app=%q,track=%q}[%s])))`,
		a.Job, track, window)
}
