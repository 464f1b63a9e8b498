package rollout

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Metric is how one metric is judged: an absolute ceiling on the canary's
// value, and/or a comparison of the canary's samples against the
// baseline's (Mann-Whitney U at a confidence, with a minimum effect so
// noise does not roll back).
type Metric struct {
	Name       string
	Query      string  // PromQL template; the prom adapter renders it
	Max        float64 // with HasMax: the canary's latest value must stay ≤ Max
	HasMax     bool
	Compare    bool
	Confidence float64 // default 0.95
	MinEffect  float64 // relative rise of the median that matters (0.1 = 10%)
	Ignore     bool    // an expected change: measured and shown, never judged
	MinSamples int     // fewer samples is inconclusive (default 3)
}

// Result is what one measurement says.
type Result string

// Results of a measurement.
const (
	Pass         Result = "pass"
	Fail         Result = "fail"
	Inconclusive Result = "inconclusive"
	NoData       Result = "nodata"
)

// Samples are a metric's values over the analysis window.
type Samples struct{ Canary, Baseline []float64 }

// Measurement is one metric's result with its evidence.
type Measurement struct {
	Metric    string  `json:"metric"`
	Result    Result  `json:"result"`
	Value     float64 `json:"value"`               // the canary's latest value
	Baseline  float64 `json:"baseline,omitempty"`  // the baseline's median
	Threshold float64 `json:"threshold,omitempty"` // Max, when that rule decided
	U         float64 `json:"u,omitempty"`
	P         float64 `json:"p,omitempty"`
	Samples   int     `json:"samples"`
	Why       string  `json:"why"`
	Query     string  `json:"query,omitempty"`  // filled by whoever ran it
	Window    string  `json:"window,omitempty"` // the range the samples cover
}

// Measure judges one metric's samples.
func Measure(m Metric, s Samples) Measurement {
	if m.Confidence == 0 {
		m.Confidence = 0.95
	}
	if m.MinSamples == 0 {
		m.MinSamples = 3
	}
	out := Measurement{Metric: m.Name, Result: Pass, Samples: len(s.Canary)}
	if len(s.Canary) == 0 {
		out.Result, out.Why = NoData, m.Name+": no samples"
		return out
	}
	out.Value = s.Canary[len(s.Canary)-1]
	if m.Ignore {
		out.Why = fmt.Sprintf("%s %s: an expected change, not judged", m.Name, num(out.Value))
		return out
	}
	if m.HasMax && out.Value > m.Max {
		out.Result, out.Threshold = Fail, m.Max
		out.Why = fmt.Sprintf("%s %s > %s", m.Name, num(out.Value), num(m.Max))
		return out
	}
	if !m.Compare {
		out.Why = fmt.Sprintf("%s %s ≤ %s", m.Name, num(out.Value), num(m.Max))
		return out
	}
	return compare(m, s, out)
}

func compare(m Metric, s Samples, out Measurement) Measurement {
	if len(s.Canary) < m.MinSamples || len(s.Baseline) < m.MinSamples {
		out.Result = Inconclusive
		out.Why = fmt.Sprintf("%s: %d canary and %d baseline samples, %d needed", m.Name, len(s.Canary), len(s.Baseline), m.MinSamples)
		return out
	}
	out.U, out.P = MannWhitney(s.Canary, s.Baseline)
	mc, mb := median(s.Canary), median(s.Baseline)
	out.Baseline = mb
	effect := (mc - mb) / math.Max(math.Abs(mb), 1e-9)
	significant := out.P < 1-m.Confidence
	switch {
	case significant && effect >= m.MinEffect:
		out.Result = Fail
		out.Why = fmt.Sprintf("%s canary median %s vs baseline %s (+%.0f%%; Mann-Whitney U=%s, p=%.3g < %.3g)",
			m.Name, num(mc), num(mb), effect*100, num(out.U), out.P, 1-m.Confidence)
	case significant:
		out.Why = fmt.Sprintf("%s higher on the canary (p=%.3g) but by %.0f%%, under the %.0f%% that matters",
			m.Name, out.P, effect*100, m.MinEffect*100)
	default:
		out.Why = fmt.Sprintf("%s canary median %s vs baseline %s (p=%.3g)", m.Name, num(mc), num(mb), out.P)
	}
	return out
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func num(f float64) string { return fmt.Sprintf("%.4g", f) }

// AnalysisPolicy turns measurements into a decision.
type AnalysisPolicy struct {
	FailAfter       int    // consecutive failed checks of one metric before rolling back (default 2)
	MaxInconclusive int    // consecutive inconclusive checks tolerated before holding (default 3)
	NoData          string // "hold" (default: low traffic is not health) or "fail"
	RecommendOnly   bool   // never roll back by itself: hold and recommend
}

// Action is what a verdict asks of the deploy.
type Action string

// Actions.
const (
	Continue Action = "continue"
	Hold     Action = "hold"     // stop here and tell a human
	RollBack Action = "rollback" // roll back now
)

// State is what earlier checks left: consecutive failures per metric and
// consecutive inconclusive checks.
type State struct {
	Fails        map[string]int `json:"fails"`
	Inconclusive int            `json:"inconclusive"`
}

// Verdict is a check's decision and its evidence.
type Verdict struct {
	Action       Action        `json:"action"`
	Reasons      []string      `json:"reasons"`
	Measurements []Measurement `json:"measurements"`
	State        State         `json:"state"`
}

// Judge decides after one evaluation of every metric.
func Judge(p AnalysisPolicy, ms []Measurement, prev State) Verdict {
	if p.FailAfter <= 0 {
		p.FailAfter = 2
	}
	if p.MaxInconclusive <= 0 {
		p.MaxInconclusive = 3
	}
	st := State{Fails: map[string]int{}, Inconclusive: prev.Inconclusive}
	v := Verdict{Action: Continue, Measurements: ms}
	var failed, holds []string
	inconclusive := false
	for _, m := range ms {
		result := m.Result
		if result == NoData && p.NoData == "fail" {
			result = Fail
		}
		switch result {
		case Fail:
			st.Fails[m.Metric] = prev.Fails[m.Metric] + 1
			if st.Fails[m.Metric] >= p.FailAfter {
				failed = append(failed, fmt.Sprintf("%s for %d consecutive checks", m.Why, st.Fails[m.Metric]))
			}
		case NoData:
			holds = append(holds, m.Why+" (policy: no data holds; low traffic is not health)")
		case Inconclusive:
			inconclusive = true
		case Pass:
		}
	}
	st.Inconclusive = 0
	if inconclusive {
		st.Inconclusive = prev.Inconclusive + 1
		if st.Inconclusive > p.MaxInconclusive {
			holds = append(holds, fmt.Sprintf("inconclusive for %d consecutive checks", st.Inconclusive))
		}
	}
	v.State = st
	switch {
	case len(failed) > 0 && p.RecommendOnly:
		v.Action, v.Reasons = Hold, append([]string{"rollback recommended (policy: recommend only)"}, failed...)
	case len(failed) > 0:
		v.Action, v.Reasons = RollBack, failed
	case len(holds) > 0:
		v.Action, v.Reasons = Hold, holds
	}
	return v
}

// Unreachable is the verdict when the metrics could not be read: never a
// silent pass.
func Unreachable(err error, prev State) Verdict {
	return Verdict{Action: Hold, Reasons: []string{"metrics unavailable: " + strings.TrimSpace(err.Error())}, State: prev}
}
