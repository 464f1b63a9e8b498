package rollout

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
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
	// MinAbsolute is the least absolute rise that matters too (a share of
	// requests: 0.05 = 5 points), so a share near zero doubling is not a
	// regression.
	MinAbsolute float64
	// MinRequests, when set, is the traffic (Samples.Requests) the window
	// must hold to judge by: under it a pass is inconclusive, and a Ratio
	// metric (errors per request) fails its ceiling only when its counts
	// say so at 99% — two unlucky errors in 150 requests are not 1%.
	MinRequests float64
	Ratio       bool
	Ignore      bool // an expected change: measured and shown, never judged
	MinSamples  int  // fewer samples is inconclusive (default 3)
}

// Result is what one measurement says.
type Result string

// Results of a measurement.
const (
	Pass         Result = "pass"
	Fail         Result = "fail"
	Inconclusive Result = "inconclusive"
	NoData       Result = "nodata"
	// Together: the canary broke a ceiling, but so did the stable track in
	// the same window — a shared cause (a dependency), not the canary.
	Together Result = "together"
)

// Samples are a metric's values over the analysis window: the canary's,
// what it is compared with (the stable track, or a baseline of the stable
// version started beside the canary), and the stable track's own (to tell
// a shared degradation from the canary's).
type Samples struct {
	Canary, Baseline, Stable []float64
	// CanaryN and BaselineN, for a share of requests, are how many
	// requests the latest window holds on each side: the share is then
	// compared with a two-proportion test on those exact counts, whose
	// noise it knows, instead of a rank test.
	CanaryN, BaselineN float64
	// Requests is the traffic the canary's latest window holds (with
	// Metric.MinRequests).
	Requests float64
}

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
	out := measure(m, s)
	if m.MinRequests <= 0 || s.Requests >= m.MinRequests {
		return out
	}
	thin := fmt.Sprintf("%s: %.0f requests in the window, %.0f needed to judge", m.Name, s.Requests, m.MinRequests)
	switch out.Result {
	case Pass:
		if !m.Ignore {
			out.Result, out.Why = Inconclusive, thin
		}
	case Fail, Together:
		// A broken ceiling stays broken when even thin counts prove it.
		if m.Ratio && out.Threshold > 0 && wilsonLower(out.Value, s.Requests, 0.99) <= out.Threshold {
			out.Result, out.Why = Inconclusive, thin+" ("+out.Why+", not significant on so few)"
		}
	case Inconclusive, NoData:
	}
	return out
}

// wilsonLower is the lower bound of the Wilson interval of a share p of n
// at one-sided confidence conf.
func wilsonLower(p, n, conf float64) float64 {
	if n <= 0 {
		return 0
	}
	p = math.Min(1, math.Max(0, p))
	z := math.Sqrt2 * math.Erfinv(2*conf-1)
	return (p + z*z/(2*n) - z*math.Sqrt(p*(1-p)/n+z*z/(4*n*n))) / (1 + z*z/n)
}

func measure(m Metric, s Samples) Measurement {
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
		// Together: the stable track broke it too, and the canary is not
		// clearly worse (at most twice stable's) — a shared cause.
		if n := len(s.Stable); n > 0 && s.Stable[n-1] > m.Max && out.Value <= 2*s.Stable[n-1] {
			out.Result = Together
			out.Why = fmt.Sprintf("%s %s > %s on the canary and %s on the stable track too: degraded together, likely not the canary",
				m.Name, num(out.Value), num(m.Max), num(s.Stable[n-1]))
		}
		return out
	}
	if !m.Compare {
		out.Why = fmt.Sprintf("%s %s ≤ %s", m.Name, num(out.Value), num(m.Max))
		return out
	}
	return compare(m, s, out)
}

func compare(m Metric, s Samples, out Measurement) Measurement {
	counted := s.CanaryN > 0 && s.BaselineN > 0 && len(s.Baseline) > 0 // the latest window's counts decide
	if !counted && (len(s.Canary) < m.MinSamples || len(s.Baseline) < m.MinSamples) {
		out.Result = Inconclusive
		out.Why = fmt.Sprintf("%s: %d canary and %d baseline samples, %d needed", m.Name, len(s.Canary), len(s.Baseline), m.MinSamples)
		return out
	}
	test := "Mann-Whitney"
	out.U, out.P = MannWhitney(s.Canary, s.Baseline)
	mc, mb := median(s.Canary), median(s.Baseline)
	if counted {
		mc, mb = clamp01(s.Canary[len(s.Canary)-1]), clamp01(s.Baseline[len(s.Baseline)-1]) // rates extrapolate past 0–1
		out.U, out.P = TwoProportions(mc, s.CanaryN, mb, s.BaselineN)
		test = "two-proportion z"
	}
	if math.IsNaN(out.P) {
		out.Result = Inconclusive
		out.Why = fmt.Sprintf("%s: no test possible on these samples", m.Name)
		return out
	}
	out.Baseline = mb
	effect := (mc - mb) / math.Max(math.Abs(mb), 1e-9)
	significant := out.P < 1-m.Confidence
	switch {
	case significant && effect >= m.MinEffect && mc-mb >= m.MinAbsolute:
		out.Result = Fail
		out.Why = fmt.Sprintf("%s canary %s vs baseline %s (+%.0f%%; %s=%s, p=%.3g < %.3g)",
			m.Name, num(mc), num(mb), effect*100, test, num(out.U), out.P, 1-m.Confidence)
	case significant:
		out.Why = fmt.Sprintf("%s higher on the canary (p=%.3g) but by %.0f%%, under the %.0f%% that matters",
			m.Name, out.P, effect*100, m.MinEffect*100)
		if m.MinAbsolute > 0 {
			out.Why += fmt.Sprintf(" or under %s", num(m.MinAbsolute))
		}
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
	// Held is what the current hold is about (its metrics and results):
	// a human is told once per hold, not on every check.
	Held string `json:"held,omitempty"`
}

// Verdict is a check's decision and its evidence.
type Verdict struct {
	Action Action `json:"action"`
	// NewHold: a hold whose cause differs from the previous check's.
	NewHold      bool          `json:"new_hold,omitempty"`
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
		case Together:
			// Rolling back what did not cause it would hide the real
			// incident: hold, and a human looks — once it lasts. Counted
			// apart from the canary's own failures.
			k := "together:" + m.Metric
			st.Fails[k] = prev.Fails[k] + 1
			if st.Fails[k] >= p.FailAfter {
				holds = append(holds, fmt.Sprintf("%s for %d consecutive checks: holding for a human instead of rolling back",
					m.Why, st.Fails[k]))
			}
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
	if v.Action == Hold {
		v.State.Held = holdKey(ms)
		v.NewHold = v.State.Held != prev.Held
	}
	return v
}

// holdKey names what a hold is about: each metric that did not pass, with
// its result.
func holdKey(ms []Measurement) string {
	var parts []string
	for _, m := range ms {
		if m.Result != Pass {
			parts = append(parts, m.Metric+":"+string(m.Result))
		}
	}
	sort.Strings(parts)
	return "analysis " + strings.Join(parts, ",")
}

// Unreachable is the verdict when the metrics could not be read: never a
// silent pass.
func Unreachable(err error, prev State) Verdict {
	st := prev
	st.Held = "metrics unavailable"
	return Verdict{Action: Hold, Reasons: []string{"metrics unavailable: " + strings.TrimSpace(err.Error())}, State: st,
		NewHold: prev.Held != st.Held}
}

// SlowBoundary picks, from a histogram's cumulative bucket counts by `le`,
// the finite boundary the requests fall around: of the last boundary with
// less than half the requests below it and the first with at least half,
// the one whose share is nearer one half (the upper on a tie). The share
// above it moves with any shift of requests across it — exact counts,
// unlike a quantile interpolated inside one bucket. ok is false without
// traffic or a finite boundary.
func SlowBoundary(buckets map[string]float64) (le string, below float64, ok bool) {
	total := buckets["+Inf"]
	if total <= 0 {
		return "", 0, false
	}
	type edge struct {
		le    string
		b, sh float64
	}
	var edges []edge
	for l, v := range buckets {
		if b, err := strconv.ParseFloat(l, 64); err == nil && !math.IsInf(b, 0) {
			edges = append(edges, edge{l, b, v / total})
		}
	}
	if len(edges) == 0 {
		return "", 0, false
	}
	sort.Slice(edges, func(i, j int) bool { return edges[i].b < edges[j].b })
	u := sort.Search(len(edges), func(i int) bool { return edges[i].sh >= 0.5 })
	switch {
	case u == len(edges):
		u-- // the median is past every finite boundary: the last one
	case u > 0 && 0.5-edges[u-1].sh < edges[u].sh-0.5:
		u--
	}
	return edges[u].le, edges[u].sh, true
}

func clamp01(v float64) float64 { return math.Min(1, math.Max(0, v)) }

// TwoProportions is the one-sided two-proportion z-test that share p1 of
// n1 requests is above share p2 of n2: the statistic and its p-value.
func TwoProportions(p1, n1, p2, n2 float64) (z, p float64) {
	pooled := (p1*n1 + p2*n2) / (n1 + n2)
	se := math.Sqrt(pooled * (1 - pooled) * (1/n1 + 1/n2))
	if se == 0 {
		if p1 > p2 {
			return math.Inf(1), 0
		}
		return 0, 1
	}
	z = (p1 - p2) / se
	return z, 0.5 * math.Erfc(z/math.Sqrt2)
}

// MatchBoundary finds, in a histogram's buckets by le, the label of the
// boundary equal to b (its formatting may differ between series: "0.25",
// "0.250", "2.5e-01").
func MatchBoundary(buckets map[string]float64, b float64) (string, bool) {
	for l := range buckets {
		if v, err := strconv.ParseFloat(l, 64); err == nil && math.Abs(v-b) <= 1e-9*math.Max(1, math.Abs(b)) {
			return l, true
		}
	}
	return "", false
}
