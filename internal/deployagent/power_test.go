package deployagent_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/deployagent"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/prom"
	"github.com/ferry-ci/ferry/internal/promtest"
	"github.com/ferry-ci/ferry/internal/rollout"
)

// powerCell is one synthetic canary: how much worse than stable, at what
// traffic.
type powerCell struct {
	rps       int
	latency   float64 // relative rise of latency (0.25 = 25% slower)
	errPoints float64 // error rate added, in points (1 = +1%)
}

func (c powerCell) null() bool { return c.latency == 0 && c.errPoints == 0 }

func (c powerCell) String() string {
	switch {
	case c.null():
		return "no change"
	case c.latency > 0:
		return fmt.Sprintf("latency +%.0f%%", 100*c.latency)
	}
	return fmt.Sprintf("errors +%.1f pt", c.errPoints)
}

// powerOutcome is what the analysis did with one canary.
type powerOutcome struct {
	action rollout.Action // continue: promoted after every check passed
	after  time.Duration  // from the first check to the verdict
	why    string
}

// powerBase is a realistic stable track: 100 ms (±20% jitter), 0.2% errors.
var powerBase = promtest.Behaviour{Latency: 100 * time.Millisecond, ErrorRate: 0.002}

const powerChecks = 20 // one a second: the canary step's pause

// BenchmarkPowerCurve measures the default analysis the way a
// statistician would: on the real Prometheus and the test app, synthetic
// canaries worse than stable by a known amount, each judged with the
// default metrics and policy (1 s checks over a 15 s window, 2 failed
// checks to roll back) for up to 20 checks. It prints, per cell, the rollback
// rate (power where a regression exists, false rollbacks where none does),
// holds, and the median time to a verdict. b.N is the runs per cell (the
// no-change cells run four times as many: false rollbacks are rare).
func BenchmarkPowerCurve(b *testing.B) {
	promURL := promtest.URL(b)
	metrics, err := prom.New(promURL)
	if err != nil {
		b.Fatal(err)
	}
	env := powerEnv(b)
	cells := powerCells(testing.Short())
	results := make([][]powerOutcome, len(cells))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16) // canaries judged at once
	b.ResetTimer()
	for i, c := range cells {
		runs := b.N
		if c.null() && !testing.Short() {
			runs = 4 * b.N
		}
		for r := range runs {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				o := powerRun(b, metrics, env, c, fmt.Sprintf("pw%d-%d", i, r))
				mu.Lock()
				results[i] = append(results[i], o)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	b.StopTimer()
	// Printed, not logged: a benchmark's log is cut short. (The testing
	// package runs b.N = 1 before the asked-for count: two tables.)
	fmt.Printf("\npower curve (runs per cell in the table):\n%s", powerTable(cells, results))
	for i, c := range cells {
		for _, o := range results[i] {
			if o.action != rollout.Continue && (c.null() || c.latency == 0.1) {
				fmt.Printf("  %s at %d/s, %s: %s\n", c, c.rps, o.action, o.why)
			}
		}
	}
}

// powerCells are the canaries measured: at 40 and 4 requests a second,
// no change, latency 10–100% worse, errors 0.5–5 points more (short: one
// of each kind, for make test to run it once).
func powerCells(short bool) []powerCell {
	if short {
		return []powerCell{{rps: 40}, {rps: 40, latency: 0.25}, {rps: 40, errPoints: 1}, {rps: 4}}
	}
	var cells []powerCell
	for _, rps := range []int{40, 4} {
		cells = append(cells, powerCell{rps: rps})
		for _, l := range []float64{0.1, 0.25, 0.5, 1} {
			cells = append(cells, powerCell{rps: rps, latency: l})
		}
		for _, e := range []float64{0.5, 1, 2, 5} {
			cells = append(cells, powerCell{rps: rps, errPoints: e})
		}
	}
	return cells
}

// powerEnv is the default analysis of an environment, from a policy that
// only turns it on.
func powerEnv(b *testing.B) policy.Environment {
	// A 15 s window (600 requests a track at 40/s) and 1 s checks: the
	// default metrics and rules on a time base a benchmark can afford.
	p, err := policy.Parse([]byte(strings.ReplaceAll(strings.ReplaceAll(defaults("20s"), "NS", "power"), "window: 10s", "window: 15s")))
	if err != nil {
		b.Fatal(err)
	}
	return p.Environments["production"]
}

// powerRun starts one test app whose canary track is worse than stable by
// the cell's effect, lets a window of traffic pass (the analysis starts
// once the canary's pods are up), and judges it check by check.
func powerRun(b *testing.B, metrics deployagent.Metrics, env policy.Environment, c powerCell, id string) powerOutcome {
	name := uniqueApp(id)
	canary := promtest.Behaviour{Latency: time.Duration(float64(powerBase.Latency) * (1 + c.latency)),
		ErrorRate: powerBase.ErrorRate + c.errPoints/100}
	app := promtest.StartApp(b, name, c.rps, map[string]promtest.Behaviour{"stable": powerBase, "canary": canary},
		map[string]string{"namespace": name})
	defer app.Stop()
	time.Sleep(env.Analysis.Window + 3*time.Second)
	env.Namespace = name
	an := env.Analysis
	judge := rollout.AnalysisPolicy{FailAfter: an.FailAfter, MaxInconclusive: an.MaxInconclusive, NoData: an.NoData}
	var st rollout.State
	start := time.Now()
	for range powerChecks {
		ms, err := deployagent.Measure(context.Background(), metrics, deployagent.Subject{Env: env, Environment: "production",
			Track: "canary"}, time.Now())
		v := rollout.Unreachable(fmt.Errorf("no metrics"), st)
		if err == nil {
			v = rollout.Judge(judge, ms, st)
		}
		st = v.State
		if v.Action != rollout.Continue {
			return powerOutcome{action: v.Action, after: time.Since(start), why: strings.Join(v.Reasons, "; ")}
		}
		time.Sleep(an.Interval)
	}
	return powerOutcome{action: rollout.Continue}
}

// powerTable prints the rollback rate, holds and median time to verdict
// per cell.
func powerTable(cells []powerCell, results [][]powerOutcome) string {
	var out strings.Builder
	fmt.Fprintf(&out, "%-8s %-16s %5s %10s %7s %9s %14s\n", "traffic", "canary", "runs", "rollbacks", "holds", "promoted", "median verdict")
	for i, c := range cells {
		var roll, hold, prom int
		var times []time.Duration
		for _, o := range results[i] {
			switch o.action {
			case rollout.RollBack:
				roll++
				times = append(times, o.after)
			case rollout.Hold:
				hold++
				times = append(times, o.after)
			case rollout.Continue:
				prom++
			}
		}
		med := "-"
		if len(times) > 0 {
			sort.Slice(times, func(a, b int) bool { return times[a] < times[b] })
			med = times[len(times)/2].Round(100 * time.Millisecond).String()
		}
		n := max(1, len(results[i]))
		fmt.Fprintf(&out, "%-8s %-16s %5d %9.0f%% %6.0f%% %8.0f%% %14s\n", fmt.Sprintf("%d/s", c.rps), c, len(results[i]),
			100*float64(roll)/float64(n), 100*float64(hold)/float64(n), 100*float64(prom)/float64(n), med)
	}
	return out.String()
}
