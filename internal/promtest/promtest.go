// Package promtest gives tests the real Prometheus `make test` starts
// (.ci/prometheus, scraping every second) and a small HTTP application whose
// error rate and latency the test sets per track (canary, stable). The
// pods in the test Kubernetes cluster are fake (kwok): nothing runs in
// them, so a test that deploys a canary tells this application which
// track's behaviour to change — that is the bridge between the two.
package promtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// URL is the test Prometheus' address.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("FERRY_TEST_PROMETHEUS")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("FERRY_TEST_PROMETHEUS is unset under CI=true: make test starts Prometheus (.ci/prometheus start)")
		}
		t.Skip("no test Prometheus: run `make test` (it starts one with .ci/prometheus), or set FERRY_TEST_PROMETHEUS")
	}
	return u
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

// App serves traffic it generates itself, per track, and exposes
// http_requests_total{track,code} and http_request_duration_seconds{track}.
type App struct {
	mu     sync.Mutex
	tracks map[string]Behaviour
	reqs   *prometheus.CounterVec
	dur    *prometheus.HistogramVec
	Job    string // the label Prometheus gives its series: app="<Job>"
}

// StartApp starts an application scraped by the test Prometheus under the
// label app=<name> and a load loop of rps requests per second per track.
func StartApp(t testing.TB, name string, rps int, tracks map[string]Behaviour, labels ...map[string]string) *App {
	t.Helper()
	reg := prometheus.NewRegistry()
	a := &App{tracks: tracks, Job: name,
		reqs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests."}, []string{"track", "code"}),
		dur: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "http_request_duration_seconds", Help: "Latency.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"track"})}
	reg.MustRegister(a.reqs, a.dur)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	stop := make(chan struct{})
	go a.load(rps, stop)
	all := map[string]string{"app": name}
	for _, l := range labels {
		maps.Copy(all, l)
	}
	target := []map[string]any{{"targets": []string{strings.TrimPrefix(srv.URL, "http://")}, "labels": all}}
	b, _ := json.Marshal(target)
	file := filepath.Join(targetsDir(), name+".json")
	if err := os.WriteFile(file+".tmp", b, 0o644); err != nil {
		t.Fatalf("register scrape target: %v", err)
	}
	if err := os.Rename(file+".tmp", file); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		close(stop)
		os.Remove(file)
		srv.Close()
	})
	return a
}

// Set changes a track's behaviour from now on.
func (a *App) Set(track string, b Behaviour) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tracks[track] = b
}

func (a *App) load(rps int, stop chan struct{}) {
	tick := time.NewTicker(time.Second / time.Duration(max(rps, 1)))
	defer tick.Stop()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		a.mu.Lock()
		for track, b := range a.tracks {
			code := "200"
			if r.Float64() < b.ErrorRate {
				code = "500"
			}
			a.reqs.WithLabelValues(track, code).Inc()
			a.dur.WithLabelValues(track).Observe(b.Latency.Seconds() * (0.8 + 0.4*r.Float64()))
		}
		a.mu.Unlock()
	}
}

// ErrorRatio is the PromQL of a track's error share over window.
func (a *App) ErrorRatio(track, window string) string {
	sel := fmt.Sprintf(`app=%q,track=%q`, a.Job, track)
	return fmt.Sprintf(`sum(rate(http_requests_total{%s,code="500"}[%s])) / sum(rate(http_requests_total{%s}[%s]))`, sel, window, sel, window)
}

// P99 is the PromQL of a track's 99th percentile latency over window.
func (a *App) P99(track, window string) string {
	return fmt.Sprintf(`histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{app=%q,track=%q}[%s])))`,
		a.Job, track, window)
}
