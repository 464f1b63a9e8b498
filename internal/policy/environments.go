package policy

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Strategy is how a deploy reaches an environment. The values are the
// only ones a policy may name, and the one of a rollback.
type Strategy string

// Strategies.
const (
	Rolling   Strategy = "rolling"
	Canary    Strategy = "canary"
	BlueGreen Strategy = "blue-green"
	Hotfix    Strategy = "hotfix"
	// Rollback restores what ran before; never a policy's choice.
	Rollback Strategy = "rollback"
)

// Environment is where ferry deploys, and how.
type Environment struct {
	Name             string
	Context          string // kubeconfig context; "" = the current one
	InCluster        bool
	Namespace        string
	Workloads        []Workload
	Image            string // template: {{ .SHA }}, {{ .ShortSHA }}
	Service          string // for blue-green
	URL              string
	AutoDeploy       bool
	NeedsHuman       bool
	Strategies       []Strategy // allowed
	Strategy         Strategy   // forced; "" = chosen from risk
	CanarySteps      []int
	CanaryPause      time.Duration
	ProgressDeadline time.Duration
	Freezes          []Freeze
	Analysis         *Analysis // nil: no metric analysis
	// MigrationsBackwardCompatible: rolling back over a migration is safe.
	MigrationsBackwardCompatible bool
	// Promote is how changes reach the environment: "" (commands and
	// auto_deploy) or PromotePullRequest.
	Promote Promotion
}

// Promotion is an environment's production-deploy pull request.
type Promotion struct {
	// Via is PromotePullRequest, or "" for none.
	Via string
	// From is the environment whose successful deploys are the candidates
	// ("": the default branch's tip once its required checks are green).
	From string
	// Branch records what the environment runs (default deploy/<env>).
	Branch string
	// AuthorsApprove: an author of a change in it may ship it by merging.
	AuthorsApprove bool
}

// PromotePullRequest is the promotion through a pull request a person
// merges.
const PromotePullRequest = "pull_request"

// Promoted reports whether a pull request ships to the environment.
func (e Environment) Promoted() bool { return e.Promote.Via == PromotePullRequest }

// Analysis is how a canary is watched while it holds.
type Analysis struct {
	Interval, Window time.Duration
	Watch            time.Duration // after the rollout is complete (0: only canary holds are watched)
	FailAfter        int
	MaxInconclusive  int
	NoData           string
	RecommendOnly    bool
	// Baseline: compare the canary with a baseline of the current version
	// started beside it at the same size (Kayenta's three-way method), not
	// with the long-running stable pods.
	Baseline bool
	// MinEffect is the relative rise the default comparisons act on
	// (default 0.2).
	MinEffect float64
	// MinRequests is the least traffic in a window a metric with a Count
	// query is judged on (default 100): fewer is inconclusive, and lasting,
	// a hold — thin traffic is not health, nor a reason to roll back.
	MinRequests int
	Metrics     []AnalysisMetric
}

// AnalysisMetric is one metric: a PromQL template and its rule.
type AnalysisMetric struct {
	Name, Query string
	Max         *float64
	Compare     bool
	Confidence  float64
	MinEffect   float64
	// MinAbsolute is the least absolute rise that matters too.
	MinAbsolute float64
	// Count, when set, is the template of how many requests the window
	// holds for the track (judged against MinRequests).
	Count string
	// MinRequests overrides the analysis' for this metric (the larger wins).
	MinRequests int
	// Ratio: a share of requests (errors), whose ceiling thin traffic can
	// still prove broken from its counts.
	Ratio  bool
	Ignore bool
	// Histogram, instead of a query, judges the share of slow requests:
	// those above the bucket boundary the compared track's requests fall
	// around, from the histogram's exact bucket counts. Selector is the
	// label matchers template ({{ .Track }} …).
	Histogram, Selector string
}

// BucketsQuery is the template of a histogram metric's bucket rates by
// le over the window.
func (m AnalysisMetric) BucketsQuery() string {
	return `sum by (le) (rate(` + m.Histogram + `_bucket{` + m.Selector + `}[{{ .Window }}]))`
}

// SlowShareQuery is the template of a histogram metric's share of
// requests slower than le.
func (m AnalysisMetric) SlowShareQuery(le string) string {
	return `1 - sum(rate(` + m.Histogram + `_bucket{` + m.Selector + `,le="` + le + `"}[{{ .Window }}]))` +
		` / sum(rate(` + m.Histogram + `_count{` + m.Selector + `}[{{ .Window }}]))`
}

// Workload is a Deployment and the container whose image changes ("" =
// the first).
type Workload struct{ Name, Container string }

// Freeze is a window when nothing deploys.
type Freeze struct {
	From, To time.Time
	Reason   string
}

// Frozen returns the freeze in force at t, if any.
func (e Environment) Frozen(t time.Time) (Freeze, bool) {
	for _, f := range e.Freezes {
		if !t.Before(f.From) && t.Before(f.To) {
			return f, true
		}
	}
	return Freeze{}, false
}

// Deploys reports whether ferry deploys there itself (Kubernetes); an
// environment without a namespace is one ferry only gates (deployment
// protection rules: GitHub Actions deploys, ferry decides).
func (e Environment) Deploys() bool { return e.Namespace != "" }

// Allows reports whether the environment permits a strategy.
func (e Environment) Allows(strategy Strategy) bool { return slices.Contains(e.Strategies, strategy) }

type rawEnvironment struct {
	Cluster *struct {
		Context   string `json:"context"`
		InCluster bool   `json:"in_cluster"`
	} `json:"cluster"`
	Namespace   string `json:"namespace"`
	Deployments []struct {
		Name      string `json:"name"`
		Container string `json:"container"`
	} `json:"deployments"`
	Image      string     `json:"image"`
	Service    string     `json:"service"`
	URL        string     `json:"url"`
	AutoDeploy bool       `json:"auto_deploy"`
	NeedsHuman *bool      `json:"needs_human"`
	Strategies []Strategy `json:"strategies"`
	Strategy   Strategy   `json:"strategy"`
	Canary     *struct {
		Steps []int  `json:"steps"`
		Pause string `json:"pause"`
	} `json:"canary"`
	ProgressDeadline             string `json:"progress_deadline"`
	MigrationsBackwardCompatible bool   `json:"migrations_backward_compatible"`
	Promote                      string `json:"promote"`
	PromoteFrom                  string `json:"promote_from"`
	PromoteBranch                string `json:"promote_branch"`
	PromoteAuthorsApprove        bool   `json:"promote_authors_approve"`
	Analysis                     *struct {
		Interval        string   `json:"interval"`
		Window          string   `json:"window"`
		Watch           string   `json:"watch"`
		FailAfter       int      `json:"fail_after"`
		MaxInconclusive int      `json:"max_inconclusive"`
		NoData          string   `json:"no_data"`
		RecommendOnly   bool     `json:"recommend_only"`
		Baseline        bool     `json:"baseline"`
		MinEffect       *float64 `json:"min_effect"`
		MinRequests     int      `json:"min_requests"`
		Metrics         []struct {
			Name       string   `json:"name"`
			Query      string   `json:"query"`
			Max        *float64 `json:"max"`
			Compare    bool     `json:"compare"`
			Confidence float64  `json:"confidence"`
			MinEffect  float64  `json:"min_effect"`
			Ignore     bool     `json:"ignore"`
			Histogram  string   `json:"histogram"`
			Selector   string   `json:"selector"`
		} `json:"metrics"`
	} `json:"analysis"`
	Freeze []struct {
		From   time.Time `json:"from"`
		To     time.Time `json:"to"`
		Reason string    `json:"reason"`
	} `json:"freeze"`
}

// environment builds one environment with its defaults.
func environment(name string, r rawEnvironment) (Environment, []Problem) {
	at := "/environments/" + name
	e := Environment{Name: name, Namespace: r.Namespace, Image: r.Image, Service: r.Service, URL: r.URL,
		AutoDeploy: r.AutoDeploy, NeedsHuman: !r.AutoDeploy, Strategy: r.Strategy, MigrationsBackwardCompatible: r.MigrationsBackwardCompatible,
		CanarySteps: []int{5, 25, 100}, CanaryPause: 30 * time.Second, ProgressDeadline: 10 * time.Minute}
	var probs []Problem
	if r.Cluster != nil {
		e.Context, e.InCluster = r.Cluster.Context, r.Cluster.InCluster
	}
	if r.NeedsHuman != nil {
		e.NeedsHuman = *r.NeedsHuman
	}
	for _, d := range r.Deployments {
		e.Workloads = append(e.Workloads, Workload{Name: d.Name, Container: d.Container})
	}
	e.Strategies = r.Strategies
	if e.Strategies == nil {
		e.Strategies = []Strategy{Rolling, Canary}
		if e.Service != "" {
			e.Strategies = append(e.Strategies, BlueGreen)
		}
	}
	if c := r.Canary; c != nil {
		if c.Steps != nil {
			e.CanarySteps = c.Steps
		}
		if c.Pause != "" {
			e.CanaryPause, _ = time.ParseDuration(c.Pause) // the schema checked its form
		}
	}
	if !slices.IsSorted(e.CanarySteps) || e.CanarySteps[len(e.CanarySteps)-1] != 100 {
		probs = append(probs, Problem{Pointer: at + "/canary/steps", Message: "canary steps must rise and end at 100"})
	}
	if r.ProgressDeadline != "" {
		e.ProgressDeadline, _ = time.ParseDuration(r.ProgressDeadline)
	}
	if slices.Contains(e.Strategies, BlueGreen) && e.Service == "" || e.Strategy == BlueGreen && e.Service == "" {
		probs = append(probs, Problem{Pointer: at, Message: fmt.Sprintf("environment %s: blue-green needs a service", name)})
	}
	if e.Strategy != "" && !slices.Contains(e.Strategies, e.Strategy) {
		e.Strategies = append(e.Strategies, e.Strategy) // forcing one allows it
	}
	for _, f := range r.Freeze {
		e.Freezes = append(e.Freezes, Freeze{From: f.From, To: f.To, Reason: f.Reason})
	}
	if r.Analysis != nil {
		e.Analysis = analysisOf(r)
	}
	return e, append(probs, promotion(&e, r)...)
}

// promotion reads the environment's production-deploy pull request
// settings: only an environment ferry deploys to can be promoted to, and
// never from itself.
func promotion(e *Environment, r rawEnvironment) []Problem {
	at := "/environments/" + e.Name
	if r.Promote == "" {
		if r.PromoteFrom != "" || r.PromoteBranch != "" {
			return []Problem{{Pointer: at + "/promote", Message: "promote_from and promote_branch need promote: pull_request"}}
		}
		return nil
	}
	e.Promote = Promotion{Via: r.Promote, From: r.PromoteFrom, Branch: r.PromoteBranch, AuthorsApprove: r.PromoteAuthorsApprove}
	if e.Promote.Branch == "" {
		e.Promote.Branch = "deploy/" + e.Name
	}
	var probs []Problem
	if !e.Deploys() {
		probs = append(probs, Problem{Pointer: at + "/promote", Message: "promote needs a namespace: ferry deploys what the pull request ships"})
	}
	if e.Promote.From == e.Name {
		probs = append(probs, Problem{Pointer: at + "/promote_from", Message: "an environment cannot promote from itself"})
	}
	if b := e.Promote.Branch; strings.Contains(b, "..") || strings.HasSuffix(b, "/") || strings.HasPrefix(b, "/") ||
		strings.HasSuffix(b, ".lock") || b == "HEAD" {
		probs = append(probs, Problem{Pointer: at + "/promote_branch", Message: fmt.Sprintf("%q is not a branch name git allows", b)})
	}
	return probs
}

// defaultSelector holds the default metrics to the environment's namespace
// and the track judged.
const defaultSelector = `namespace="{{ .Namespace }}",track="{{ .Track }}"`

// slowShareMin is the least rise of the slow share that matters: ten
// points of requests past the typical boundary (noise is the two-proportion
// test's business, at 99%).
const slowShareMin = 0.1

// DefaultMetrics are the HTTP RED metrics most services expose: the error
// rate (≤ 1%); latency compared with what the canary is compared with by
// two measures that do not depend on where bucket boundaries fall — the
// exact mean (rate of _sum over rate of _count) and the share of slow
// requests (exact bucket counts above the boundary the compared track's
// requests fall around) — each acting on a rise of minEffect; and p99
// latency as a ceiling (≤ 500 ms; interpolated within a bucket, so not
// compared). Their series need `namespace` and `track` labels; track is
// the pod label ferry.dev/track, "stable" where it is absent (see the
// README).
func DefaultMetrics(minEffect float64) []AnalysisMetric {
	errMax, p99Max := 0.01, 0.5
	sel := defaultSelector
	const h = "http_request_duration_seconds"
	requests := `sum(increase(http_requests_total{` + sel + `}[{{ .Window }}]))`
	timed := histogramCount(h, sel)
	return []AnalysisMetric{
		// A 1% ceiling needs 300 requests to be broken by more than two
		// unlucky errors.
		{Name: "error rate", Max: &errMax, Count: requests, MinRequests: int(math.Ceil(3 / errMax)), Ratio: true,
			Query: `(sum(rate(http_requests_total{` + sel + `,code=~"5.."}[{{ .Window }}])) or vector(0))` +
				` / sum(rate(http_requests_total{` + sel + `}[{{ .Window }}]))`},
		{Name: "mean latency", Compare: true, MinEffect: minEffect, Count: timed,
			Query: `sum(rate(` + h + `_sum{` + sel + `}[{{ .Window }}])) / sum(rate(` + h + `_count{` + sel + `}[{{ .Window }}]))`},
		AnalysisMetric{Name: "slow requests", Histogram: h}.shareDefaults(minEffect),
		{Name: "p99 latency", Max: &p99Max, Count: timed,
			Query: `histogram_quantile(0.99, sum by (le) (rate(` + h + `_bucket{` + sel + `}[{{ .Window }}])))`},
	}
}

// shareDefaults fills what a histogram metric (a share of slow requests)
// leaves out: the default selector and minimum effect, ten points, 99%,
// and its request count.
func (m AnalysisMetric) shareDefaults(minEffect float64) AnalysisMetric {
	m.Compare = true
	if m.MinEffect == 0 {
		m.MinEffect = minEffect
	}
	if m.Selector == "" {
		m.Selector = defaultSelector
	}
	if m.Confidence == 0 {
		m.Confidence = 0.99
	}
	m.MinAbsolute, m.Count = slowShareMin, histogramCount(m.Histogram, m.Selector)
	return m
}

// histogramCount is the template of how many requests a histogram saw in
// the window.
func histogramCount(h, selector string) string {
	return `sum(increase(` + h + `_count{` + selector + `}[{{ .Window }}]))`
}

// analysisOf builds an environment's analysis with its defaults.
func analysisOf(r rawEnvironment) *Analysis {
	a := r.Analysis
	an := &Analysis{Interval: 10 * time.Second, Window: time.Minute, FailAfter: a.FailAfter,
		MaxInconclusive: a.MaxInconclusive, NoData: a.NoData, RecommendOnly: a.RecommendOnly, Baseline: a.Baseline, MinEffect: 0.2}
	if a.MinEffect != nil {
		an.MinEffect = *a.MinEffect
	}
	an.MinRequests = 100
	if a.MinRequests > 0 {
		an.MinRequests = a.MinRequests
	}
	if a.Interval != "" {
		an.Interval, _ = time.ParseDuration(a.Interval)
	}
	if a.Window != "" {
		an.Window, _ = time.ParseDuration(a.Window)
	}
	if a.Watch != "" {
		an.Watch, _ = time.ParseDuration(a.Watch)
	}
	for _, m := range a.Metrics {
		an.Metrics = append(an.Metrics, AnalysisMetric{Name: m.Name, Query: m.Query, Max: m.Max,
			Compare: m.Compare || m.Histogram != "", Confidence: m.Confidence, MinEffect: m.MinEffect, Ignore: m.Ignore,
			Histogram: m.Histogram, Selector: m.Selector})
	}
	for i, m := range an.Metrics {
		if m.Histogram != "" {
			an.Metrics[i] = m.shareDefaults(an.MinEffect)
		}
	}
	if len(an.Metrics) == 0 {
		an.Metrics = DefaultMetrics(an.MinEffect)
	}
	return an
}
