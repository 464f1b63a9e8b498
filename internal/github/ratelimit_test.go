package github_test

import (
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/githubsim"
)

// TestRateLimitMetrics: what the simulator's answers say of an
// installation's rate limit is what /metrics shows, per installation id,
// for plain answers and for answers revalidated from ferry's cache alike.
func TestRateLimitMetrics(t *testing.T) {
	sim := githubsim.New(t, githubsim.Config{})
	sim.AddInstallation(inst, owner)
	sim.AddRepo(inst, repo)
	const other = int64(78)
	sim.AddInstallation(other, "globex")
	sim.AddRepo(other, "globex/web")
	reg := prometheus.NewRegistry()
	app, err := github.New(github.Config{AppID: sim.AppID(), PrivateKey: sim.PrivateKeyPEM(), BaseURL: sim.URL(),
		BotLogin: sim.BotLogin(), RetryBase: time.Millisecond, Logger: slog.New(slog.DiscardHandler), Metrics: github.NewMetrics(reg)})
	if err != nil {
		t.Fatal(err)
	}
	c := app.Installation(inst)
	sim.SetFile(repo, "main", "README.md", "hello\n")
	for range 3 { // the second and third are 304s: free, and still reported
		if _, err := c.FileContent(ctx, owner, name, "README.md", "main"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Repository(ctx, owner, name); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Installation(other).Repository(ctx, "globex", "web"); err != nil {
		t.Fatal(err)
	}
	for id, used := range map[int64]int{inst: 2, other: 1} {
		label := strconv.FormatInt(id, 10)
		if got := sim.RateUsed("installation:" + label); got != used {
			t.Fatalf("installation %d used %d, want %d", id, got, used)
		}
		remaining := valueOf(t, reg, "ferry_github_rate_limit_remaining", label)
		if want := float64(githubsim.RateLimit - used); remaining != want {
			t.Errorf("installation %d: remaining %v, want %v", id, remaining, want)
		}
		if limit := valueOf(t, reg, "ferry_github_rate_limit_limit", label); limit != githubsim.RateLimit {
			t.Errorf("installation %d: limit %v, want %v", id, limit, githubsim.RateLimit)
		}
		if reset := valueOf(t, reg, "ferry_github_rate_limit_reset_timestamp_seconds", label); reset < float64(time.Now().Unix()) {
			t.Errorf("installation %d: reset %v is in the past", id, reset)
		}
	}
	if n := testutil.CollectAndCount(reg, "ferry_github_rate_limit_remaining"); n != 2 {
		t.Errorf("%d remaining series, want one per installation (2)", n)
	}
}

// valueOf is the value of name's series for one installation.
func valueOf(t *testing.T, reg *prometheus.Registry, name, installation string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetName() == "installation" && m.GetLabel()[0].GetValue() == installation {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no %s{installation=%q}", name, installation)
	return 0
}
