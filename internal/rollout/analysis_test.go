package rollout

import (
	"errors"
	"strings"
	"testing"
)

func TestMeasure(t *testing.T) {
	errRate := Metric{Name: "error rate", HasMax: true, Max: 0.01}
	latency := Metric{Name: "p99 latency", Compare: true, MinEffect: 0.1}
	base := []float64{0.20, 0.21, 0.19, 0.20, 0.22, 0.21, 0.20, 0.19}
	for _, tc := range []struct {
		name   string
		m      Metric
		s      Samples
		result Result
		why    string
	}{
		{"under the ceiling", errRate, Samples{Canary: []float64{0.02, 0.004}}, Pass, "error rate 0.004 ≤ 0.01"},
		{"over the ceiling", errRate, Samples{Canary: []float64{0.001, 0.3}}, Fail, "error rate 0.3 > 0.01"},
		{"no samples", errRate, Samples{}, NoData, "error rate: no samples"},
		{"both tracks over the ceiling", errRate, Samples{Canary: []float64{0.3}, Stable: []float64{0.2}}, Together, "degraded together"},
		{"only the canary over it", errRate, Samples{Canary: []float64{0.3}, Stable: []float64{0.001}}, Fail, "error rate 0.3 > 0.01"},
		{"a share's rise under the absolute minimum", Metric{Name: "slow share", Compare: true, MinEffect: 0.2, MinAbsolute: 0.05},
			Samples{Canary: []float64{0.02, 0.021, 0.022, 0.02, 0.023}, Baseline: []float64{0.001, 0.002, 0.001, 0.002, 0.001}}, Pass, "or under 0.05"},
		{"expected change", Metric{Name: "log volume", HasMax: true, Max: 1, Ignore: true}, Samples{Canary: []float64{50}}, Pass, "an expected change"},
		{"regression", latency, Samples{Canary: []float64{0.9, 1.1, 1.0, 0.95, 1.2, 1.0, 1.05, 0.98}, Baseline: base}, Fail, "Mann-Whitney"},
		{"same", latency, Samples{Canary: []float64{0.21, 0.19, 0.20, 0.22, 0.20, 0.21, 0.19, 0.20}, Baseline: base}, Pass, "vs baseline"},
		{"significant but small", latency, Samples{Canary: []float64{0.215, 0.22, 0.225, 0.22, 0.23, 0.225, 0.22, 0.218}, Baseline: base}, Pass, "under the 10% that matters"},
		{"too few", latency, Samples{Canary: []float64{1, 2}, Baseline: base}, Inconclusive, "2 canary and 8 baseline samples, 3 needed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Measure(tc.m, tc.s)
			if m.Result != tc.result || !strings.Contains(m.Why, tc.why) {
				t.Fatalf("%s: %s; want %s containing %q", m.Result, m.Why, tc.result, tc.why)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	fail := Measurement{Metric: "p99", Result: Fail, Why: "p99 latency 1.8 > 0.5"}
	pass := Measurement{Metric: "p99", Result: Pass}
	nodata := Measurement{Metric: "rate", Result: NoData, Why: "rate: no samples"}
	inc := Measurement{Metric: "p99", Result: Inconclusive}
	together := Measurement{Metric: "rate", Result: Together, Why: "error rate 0.3 > 0.01 on the canary and 0.2 on the stable track too"}
	for _, tc := range []struct {
		name    string
		p       AnalysisPolicy
		rounds  [][]Measurement
		action  Action
		because string
	}{
		{"one failure is not enough", AnalysisPolicy{FailAfter: 3}, [][]Measurement{{fail}, {fail}}, Continue, ""},
		{"consecutive failures roll back", AnalysisPolicy{FailAfter: 3}, [][]Measurement{{fail}, {fail}, {fail}}, RollBack, "p99 latency 1.8 > 0.5 for 3 consecutive checks"},
		{"a pass resets the count", AnalysisPolicy{FailAfter: 2}, [][]Measurement{{fail}, {pass}, {fail}}, Continue, ""},
		{"no data holds", AnalysisPolicy{}, [][]Measurement{{nodata}}, Hold, "low traffic is not health"},
		{"no data may fail", AnalysisPolicy{NoData: "fail", FailAfter: 1}, [][]Measurement{{nodata}}, RollBack, "rate: no samples"},
		{"recommend only", AnalysisPolicy{FailAfter: 1, RecommendOnly: true}, [][]Measurement{{fail}}, Hold, "rollback recommended"},
		{"degraded together holds, never rolls back", AnalysisPolicy{FailAfter: 2}, [][]Measurement{{together}, {together}}, Hold, "holding for a human"},
		{"a shared blip is tolerated", AnalysisPolicy{FailAfter: 2}, [][]Measurement{{together}}, Continue, ""},
		{"inconclusive tolerated", AnalysisPolicy{MaxInconclusive: 2}, [][]Measurement{{inc}, {inc}}, Continue, ""},
		{"then held", AnalysisPolicy{MaxInconclusive: 2}, [][]Measurement{{inc}, {inc}, {inc}}, Hold, "inconclusive for 3 consecutive checks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v Verdict
			for _, ms := range tc.rounds {
				v = Judge(tc.p, ms, v.State)
			}
			if v.Action != tc.action || (tc.because != "" && !strings.Contains(strings.Join(v.Reasons, "; "), tc.because)) {
				t.Fatalf("%s %v; want %s because %q", v.Action, v.Reasons, tc.action, tc.because)
			}
		})
	}
	if v := Unreachable(errors.New("dial tcp 127.0.0.1:9090: connection refused"), State{}); v.Action != Hold {
		t.Fatalf("Prometheus down: %s", v.Action)
	}
}

func TestSlowBoundary(t *testing.T) {
	for _, tc := range []struct {
		name    string
		buckets map[string]float64
		le      string
		ok      bool
	}{
		// 100 ms ± 20%: half the requests under 0.1 s.
		{"around a boundary", map[string]float64{"0.05": 0, "0.1": 19, "0.25": 40, "+Inf": 40}, "0.1", true},
		// 150 ms ± 20%: all inside 0.1–0.25; the upper edge, where a slowdown shows first.
		{"inside one bucket", map[string]float64{"0.1": 0, "0.25": 40, "0.5": 40, "+Inf": 40}, "0.25", true},
		{"no traffic", map[string]float64{"0.1": 0, "+Inf": 0}, "", false},
		{"only +Inf", map[string]float64{"+Inf": 5}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			le, _, ok := SlowBoundary(tc.buckets)
			if le != tc.le || ok != tc.ok {
				t.Fatalf("le %q ok %v; want %q %v", le, ok, tc.le, tc.ok)
			}
		})
	}
}

// TestTwoProportions: known values of the one-sided test, and a share
// judged on its counts: the same rise is noise at 60 requests and a
// regression at 600.
func TestTwoProportions(t *testing.T) {
	z, p := TwoProportions(0.6, 100, 0.5, 100)
	if z < 1.41 || z > 1.43 || p < 0.077 || p > 0.080 {
		t.Fatalf("z %.3f p %.4f; want 1.42, 0.078", z, p)
	}
	share := Metric{Name: "slow requests", Compare: true, Confidence: 0.99, MinEffect: 0.2, MinAbsolute: 0.1}
	few := Measure(share, Samples{Canary: []float64{0.65}, Baseline: []float64{0.5}, CanaryN: 60, BaselineN: 60})
	many := Measure(share, Samples{Canary: []float64{0.65}, Baseline: []float64{0.5}, CanaryN: 600, BaselineN: 600})
	if few.Result != Pass || many.Result != Fail || !strings.Contains(many.Why, "two-proportion") {
		t.Fatalf("60 requests: %s (%s); 600: %s (%s)", few.Result, few.Why, many.Result, many.Why)
	}
}

// TestThinTrafficAndSharedCauses: too little traffic makes a pass
// inconclusive, and a broken error ceiling stands only when the counts
// prove it; a canary far worse than a degraded stable track is its own
// failure; a hold is told once.
func TestThinTrafficAndSharedCauses(t *testing.T) {
	errRate := Metric{Name: "error rate", HasMax: true, Max: 0.01, MinRequests: 300, Ratio: true}
	for _, tc := range []struct {
		name   string
		s      Samples
		result Result
	}{
		{"thin and healthy", Samples{Canary: []float64{0}, Requests: 60}, Inconclusive},
		{"thin, one unlucky error", Samples{Canary: []float64{1.0 / 60}, Requests: 60}, Inconclusive},
		{"thin but failing everything", Samples{Canary: []float64{1}, Requests: 60}, Fail},
		{"enough traffic", Samples{Canary: []float64{0.02}, Requests: 600}, Fail},
		{"both degraded alike", Samples{Canary: []float64{0.3}, Stable: []float64{0.25}, Requests: 600}, Together},
		{"canary far worse than a degraded stable", Samples{Canary: []float64{0.5}, Stable: []float64{0.011}, Requests: 600}, Fail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if m := Measure(errRate, tc.s); m.Result != tc.result {
				t.Fatalf("%s (%s); want %s", m.Result, m.Why, tc.result)
			}
		})
	}
	together := Measurement{Metric: "rate", Result: Together, Why: "both"}
	fail := Measurement{Metric: "rate", Result: Fail, Why: "canary"}
	v := Judge(AnalysisPolicy{FailAfter: 2}, []Measurement{together}, State{})
	if v = Judge(AnalysisPolicy{FailAfter: 2}, []Measurement{fail}, v.State); v.Action != Continue {
		t.Fatalf("a shared check and a canary failure add up: %s", v.Action)
	}
	first := Judge(AnalysisPolicy{FailAfter: 1}, []Measurement{together}, State{})
	again := Judge(AnalysisPolicy{FailAfter: 1}, []Measurement{together}, first.State)
	if first.Action != Hold || !first.NewHold || again.NewHold {
		t.Fatalf("told on every check: %v then %v", first.NewHold, again.NewHold)
	}
}
