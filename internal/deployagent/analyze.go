package deployagent

import (
	"context"
	"encoding/json"
	"fmt"
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
	an := env.Analysis
	end := a.cfg.Now()
	step := max(an.Interval, time.Second)
	var out []rollout.Measurement
	for _, m := range an.Metrics {
		watched := s.Track // canary while it holds; stable once everything runs the new version
		compare := m.Compare && watched == "canary"
		if m.Max == nil && !compare {
			continue // a comparison has no baseline once everything runs the new version
		}
		tracks := []string{watched}
		if compare {
			tracks = append(tracks, "stable")
		}
		series, queries := map[string][]float64{}, map[string]string{}
		for _, track := range tracks {
			q, err := renderQuery(m.Query, env, d, track, an.Window)
			if err != nil {
				return nil, err
			}
			queries[track] = q
			if series[track], err = a.cfg.Metrics.Range(ctx, q, end.Add(-an.Window), end, step); err != nil {
				return nil, err
			}
		}
		rule := rollout.Metric{Name: m.Name, Compare: compare, Confidence: m.Confidence, MinEffect: m.MinEffect, Ignore: m.Ignore}
		if m.Max != nil {
			rule.Max, rule.HasMax = *m.Max, true
		}
		samples := rollout.Samples{Canary: series[watched]}
		if compare {
			samples.Baseline = series["stable"]
		}
		meas := rollout.Measure(rule, samples)
		meas.Query, meas.Window = queries[watched], promDuration(an.Window)
		out = append(out, meas)
	}
	return out, nil
}

func renderQuery(tmpl string, env policy.Environment, d deploy.Deploy, track string, window time.Duration) (string, error) {
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
		"Environment": d.Environment, "Window": promDuration(window)})
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
	dec := audit.Decision{ID: "rollback-" + d.ID, At: a.cfg.Now(), RepositoryID: d.RepositoryID, Repository: d.Repository,
		Subject: "env:" + d.Environment + "@" + short(d.SHA), Kind: audit.KindRollback, Actor: audit.Ferry,
		InputsDigest: audit.Digest(v.Measurements), Output: "rolled back " + short(d.SHA) + " in " + d.Environment}
	for _, m := range v.Measurements {
		dec.Reasons = append(dec.Reasons, audit.Reason{Rule: m.Metric, Summary: m.Why,
			Evidence: []string{"query: " + m.Query, "window: " + m.Window, fmt.Sprintf("samples: %d, result: %s", m.Samples, m.Result)}})
	}
	if err := a.audit.RecordDecision(ctx, dec, d.Number); err != nil {
		return err
	}
	return a.finish(ctx, d, p, deploy.Failed, deploy.EndRolledBackAuto, "rolled back automatically: "+strings.Join(v.Reasons, "; "))
}
