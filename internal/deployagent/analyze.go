package deployagent

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/rollout"
)

// Metrics reads time series (the prom adapter).
type Metrics interface {
	Range(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]float64, error)
	// Buckets is a histogram's bucket values by le at one time.
	Buckets(ctx context.Context, query string, at time.Time) (map[string]float64, error)
}

// analyze runs one check of an Analyze step: every metric for the canary
// and the stable track over the window, judged with the state earlier
// checks left.
func (a *Agent) analyze(ctx context.Context, d deploy.Deploy, env policy.Environment, s rollout.Step) (rollout.Verdict, error) {
	raw, err := a.stepLog.AnalysisState(ctx, d.ID)
	if err != nil {
		return rollout.Verdict{}, err
	}
	var prev rollout.State
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &prev); err != nil {
			return rollout.Verdict{}, fmt.Errorf("analysis state of %s: %w", d.ID, err)
		}
	}
	an := env.Analysis
	var v rollout.Verdict
	if a.cfg.Metrics == nil {
		v = rollout.Unreachable(fmt.Errorf("ferry has no Prometheus (--prometheus-url)"), prev)
	} else if ms, err := a.measure(ctx, d, env, s); err != nil {
		v = rollout.Unreachable(err, prev)
	} else {
		v = rollout.Judge(rollout.AnalysisPolicy{FailAfter: an.FailAfter, MaxInconclusive: an.MaxInconclusive, NoData: an.NoData,
			RecommendOnly: an.RecommendOnly}, ms, prev)
	}
	b, _ := json.Marshal(v.State)
	return v, a.stepLog.SetAnalysisState(ctx, d.ID, b)
}

func (a *Agent) measure(ctx context.Context, d deploy.Deploy, env policy.Environment, s rollout.Step) ([]rollout.Measurement, error) {
	return Measure(ctx, a.cfg.Metrics, Subject{Env: env, Environment: d.Environment, Track: s.Track}, a.cfg.Now())
}

// Subject is what one analysis check watches: the environment (its
// analysis policy and query variables) and the track.
type Subject struct {
	Env         policy.Environment
	Environment string // the environment's name, for queries
	Track       string // canary while it holds; stable once everything runs the new version
}

// Measure evaluates every metric of the environment's analysis once at
// end: the watched track's values over the window, against a ceiling, and
// for the canary compared with the baseline (when the policy starts one)
// or the stable track; a ceiling the stable track breaks too is a shared
// degradation. Exported for the power-curve benchmark, which runs the
// same judgement without a cluster.
func Measure(ctx context.Context, metrics Metrics, sub Subject, end time.Time) ([]rollout.Measurement, error) {
	an := sub.Env.Analysis
	partner := "stable"
	if an.Baseline {
		partner = "baseline"
	}
	var out []rollout.Measurement
	for _, m := range an.Metrics {
		compare := m.Compare && sub.Track == "canary"
		if m.Max == nil && !compare {
			continue // a comparison has no baseline once everything runs the new version
		}
		meas, err := measureOne(ctx, metrics, sub, m, partner, compare, end)
		if err != nil {
			return nil, err
		}
		out = append(out, meas)
	}
	return out, nil
}

func measureOne(ctx context.Context, metrics Metrics, sub Subject, m policy.AnalysisMetric, partner string, compare bool,
	end time.Time) (rollout.Measurement, error) {
	an := sub.Env.Analysis
	tracks := []string{sub.Track}
	if compare {
		tracks = append(tracks, partner)
	}
	if m.Max != nil && sub.Track == "canary" {
		tracks = append(tracks, "stable") // to tell a shared degradation
	}
	tmpls := map[string]string{}
	note := ""
	if m.Histogram != "" {
		var why string
		var err error
		if tmpls, note, why, err = shareQueries(ctx, metrics, sub, m, tracks, compare, end); err != nil || why != "" {
			return rollout.Measurement{Metric: m.Name, Result: rollout.Inconclusive, Why: why}, err
		}
	}
	series, queries := map[string][]float64{}, map[string]string{}
	for _, track := range tracks {
		if _, done := series[track]; done {
			continue
		}
		tmpl := m.Query
		if t, ok := tmpls[track]; ok {
			tmpl = t
		}
		q, err := renderQuery(tmpl, sub.Env, sub.Environment, track, an.Window)
		if err != nil {
			return rollout.Measurement{}, err
		}
		queries[track] = q
		if series[track], err = metrics.Range(ctx, q, end.Add(-an.Window), end, max(an.Interval, time.Second)); err != nil {
			return rollout.Measurement{}, err
		}
	}
	rule, samples, err := ruleAndSamples(ctx, metrics, sub, m, partner, compare, series, end)
	if err != nil {
		return rollout.Measurement{}, err
	}
	meas := rollout.Measure(rule, samples)
	if compare && partner == "baseline" {
		note += " (compared with the baseline: the current version, started beside the canary)"
	}
	meas.Why += note
	meas.Query, meas.Window = queries[sub.Track], promDuration(an.Window)
	return meas, nil
}

// ruleAndSamples is the metric's rule and what it judges: the series, and
// the traffic behind them where the metric counts it.
func ruleAndSamples(ctx context.Context, metrics Metrics, sub Subject, m policy.AnalysisMetric, partner string, compare bool,
	series map[string][]float64, end time.Time) (rollout.Metric, rollout.Samples, error) {
	rule := rollout.Metric{Name: m.Name, Compare: compare, Confidence: m.Confidence, MinEffect: m.MinEffect,
		MinAbsolute: m.MinAbsolute, Ignore: m.Ignore, Ratio: m.Ratio}
	if m.Max != nil {
		rule.Max, rule.HasMax = *m.Max, true
	}
	samples := rollout.Samples{Canary: series[sub.Track]}
	if compare {
		samples.Baseline = series[partner]
	}
	if m.Max != nil && sub.Track == "canary" {
		samples.Stable = series["stable"]
	}
	if m.Count == "" {
		return rule, samples, nil
	}
	n, ok, err := requests(ctx, metrics, sub, m, sub.Track, end)
	if err != nil || !ok {
		return rule, samples, err // no series: the metric itself says no data
	}
	rule.MinRequests, samples.Requests = float64(max(sub.Env.Analysis.MinRequests, m.MinRequests)), n
	if m.Histogram != "" && compare {
		// A share: compared on the exact counts behind it.
		samples.CanaryN = n
		samples.BaselineN, _, err = requests(ctx, metrics, sub, m, partner, end)
	}
	return rule, samples, err
}

// shareQueries are, per track, the query of its share of requests slower
// than the boundary the compared track's requests fall around (the
// watched track's own when nothing is compared), matched by value in each
// track's buckets; why says what is missing when there is none.
func shareQueries(ctx context.Context, metrics Metrics, sub Subject, m policy.AnalysisMetric, tracks []string, compare bool,
	end time.Time) (tmpls map[string]string, note, why string, err error) {
	from := tracks[0]
	if compare {
		from = tracks[1]
	}
	buckets, err := trackBuckets(ctx, metrics, sub, m, from, end)
	if err != nil {
		return nil, "", "", err
	}
	le, below, ok := rollout.SlowBoundary(buckets)
	if !ok {
		return nil, "", fmt.Sprintf("%s: no requests on the %s track to find its typical latency bucket yet", m.Name, from), nil
	}
	bound, _ := strconv.ParseFloat(le, 64)
	tmpls = map[string]string{from: m.SlowShareQuery(le)}
	for _, track := range tracks {
		if _, done := tmpls[track]; done {
			continue
		}
		theirs, err := trackBuckets(ctx, metrics, sub, m, track, end)
		if err != nil {
			return nil, "", "", err
		}
		l, ok := rollout.MatchBoundary(theirs, bound)
		if !ok {
			return nil, "", fmt.Sprintf("%s: the %s track has no bucket boundary at %s s", m.Name, track, le), nil
		}
		tmpls[track] = m.SlowShareQuery(l)
	}
	return tmpls, fmt.Sprintf(" (share of requests above %s s, where %.0f%% of the %s track's fall below)", le, 100*below, from), "", nil
}

// trackBuckets are a track's histogram bucket rates by le over the window.
func trackBuckets(ctx context.Context, metrics Metrics, sub Subject, m policy.AnalysisMetric, track string,
	end time.Time) (map[string]float64, error) {
	q, err := renderQuery(m.BucketsQuery(), sub.Env, sub.Environment, track, sub.Env.Analysis.Window)
	if err != nil {
		return nil, err
	}
	return metrics.Buckets(ctx, q, end)
}

// requests is how many requests a track's window holds, by the metric's
// Count query; ok is false without a series.
func requests(ctx context.Context, metrics Metrics, sub Subject, m policy.AnalysisMetric, track string, end time.Time) (float64, bool, error) {
	q, err := renderQuery(m.Count, sub.Env, sub.Environment, track, sub.Env.Analysis.Window)
	if err != nil {
		return 0, false, err
	}
	vs, err := metrics.Range(ctx, q, end, end, time.Second)
	if err != nil || len(vs) == 0 {
		return 0, false, err
	}
	return vs[len(vs)-1], true, nil
}

func renderQuery(tmpl string, env policy.Environment, environment, track string, window time.Duration) (string, error) {
	t, err := template.New("query").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return "", fmt.Errorf("query template: %w", err)
	}
	dep := ""
	if len(env.Workloads) > 0 {
		dep = env.Workloads[0].Name
	}
	var b strings.Builder
	err = t.Execute(&b, map[string]string{"Namespace": env.Namespace, "Deployment": dep, "Track": track,
		"Environment": environment, "Window": promDuration(window)})
	return b.String(), err
}

// promDuration writes a duration as PromQL reads it (5s, 1m30s → 90s).
func promDuration(d time.Duration) string {
	if d%time.Second != 0 || d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}

// rollBack ends a deploy the metrics condemned: the canary is retired at
// once (the stable version never stopped serving), the evidence recorded
// in the audit trail, on GitHub and in the progress comment.
func (a *Agent) rollBack(ctx context.Context, d deploy.Deploy, p plan, kube Kube, v rollout.Verdict) error {
	if err := a.restore(ctx, d, p, kube); err != nil {
		return err
	}
	dec := a.decision(d, "rollback-"+d.ID, audit.KindRollback, audit.Ferry, v.Measurements, "rolled back "+short(d.SHA)+" in "+d.Environment)
	dec.Reasons = measurementReasons(v.Measurements)
	if err := a.audit.RecordDecision(ctx, dec, d.Number); err != nil {
		return err
	}
	return a.finish(ctx, d, p, deploy.Failed, deploy.EndRolledBackAuto, "rolled back automatically: "+strings.Join(v.Reasons, "; "))
}

// decision is one ferry records about deploy d, now.
func (a *Agent) decision(d deploy.Deploy, id string, kind audit.Kind, actor string, inputs any, output string) audit.Decision {
	return audit.Decision{ID: id, At: a.cfg.Now(), RepositoryID: d.RepositoryID, Repository: d.Repository,
		Subject: "env:" + d.Environment + "@" + short(d.SHA), Kind: kind, Actor: actor, InputsDigest: audit.Digest(inputs),
		Output: output}
}

// measurementReasons are a verdict's measurements as reasons, each with
// the query, window and samples behind it.
func measurementReasons(ms []rollout.Measurement) []audit.Reason {
	out := make([]audit.Reason, 0, len(ms))
	for _, m := range ms {
		out = append(out, audit.Reason{Rule: m.Metric, Summary: m.Why,
			Evidence: []string{"query: " + m.Query, "window: " + m.Window, fmt.Sprintf("samples: %d, result: %s", m.Samples, m.Result)}})
	}
	return out
}
