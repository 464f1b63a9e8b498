package prom_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/prom"
	"github.com/ferry-ci/ferry/internal/promtest"
	"github.com/ferry-ci/ferry/internal/rollout"
)

// TestJudgeOnRealMetrics: the real Prometheus scrapes the test app every
// second; a canary answering half its requests with 500s and four times
// slower is judged a failure against the stable track, from PromQL range
// queries; a healthy canary passes.
func TestJudgeOnRealMetrics(t *testing.T) {
	c, err := prom.New(promtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	app := promtest.StartApp(t, "judge-"+strings.ToLower(t.Name()[len(t.Name())-8:]), 50, map[string]promtest.Behaviour{
		"stable": {ErrorRate: 0.01, Latency: 50 * time.Millisecond},
		"canary": {ErrorRate: 0.5, Latency: 200 * time.Millisecond},
	})
	ctx := context.Background()
	var canary, stable []float64
	for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		end := time.Now()
		if canary, err = c.Range(ctx, app.P99("canary", "5s"), end.Add(-15*time.Second), end, time.Second); err != nil {
			t.Fatal(err)
		}
		if stable, err = c.Range(ctx, app.P99("stable", "5s"), end.Add(-15*time.Second), end, time.Second); err != nil {
			t.Fatal(err)
		}
		if len(canary) >= 6 && len(stable) >= 6 {
			break
		}
	}
	latency := rollout.Measure(rollout.Metric{Name: "p99 latency", Compare: true, MinEffect: 0.2}, rollout.Samples{Canary: canary, Baseline: stable})
	if latency.Result != rollout.Fail {
		t.Fatalf("latency: %s (%s) from %d/%d samples", latency.Result, latency.Why, len(canary), len(stable))
	}
	end := time.Now()
	errs, err := c.Range(ctx, app.ErrorRatio("canary", "5s"), end.Add(-5*time.Second), end, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ratio := rollout.Measure(rollout.Metric{Name: "error rate", HasMax: true, Max: 0.05}, rollout.Samples{Canary: errs})
	if ratio.Result != rollout.Fail || ratio.Value < 0.3 {
		t.Fatalf("error rate: %s (%s)", ratio.Result, ratio.Why)
	}
	healthy, err := c.Range(ctx, app.ErrorRatio("stable", "5s"), end.Add(-5*time.Second), end, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m := rollout.Measure(rollout.Metric{Name: "error rate", HasMax: true, Max: 0.05}, rollout.Samples{Canary: healthy}); m.Result != rollout.Pass {
		t.Fatalf("stable error rate: %s (%s)", m.Result, m.Why)
	}
	none, err := c.Range(ctx, app.ErrorRatio("nonexistent", "5s"), end.Add(-5*time.Second), end, time.Second)
	if err != nil || len(none) != 0 {
		t.Fatalf("a track without traffic: %v, %v", none, err)
	}
}

// TestPrometheusDown: an unreachable Prometheus is an error, and the
// verdict is a hold — never a silent pass.
func TestPrometheusDown(t *testing.T) {
	c, err := prom.New("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Range(context.Background(), "up", time.Now().Add(-time.Minute), time.Now(), time.Second)
	if err == nil {
		t.Fatal("no error from a Prometheus that is not there")
	}
	if v := rollout.Unreachable(err, rollout.State{}); v.Action != rollout.Hold {
		t.Fatalf("verdict %s", v.Action)
	}
}
