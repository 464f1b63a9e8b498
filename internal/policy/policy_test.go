package policy

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseValid(t *testing.T) {
	p, err := Parse([]byte(`
version: 1
risk:
  thresholds: {medium: 25, high: 70}
  weights:
    migration: 40
    config: 0
  paths:
    - {glob: "payments/**", rule: payments, weight: 20}
  require_human: ["db/**", ".github/workflows/*.yml"]
  high_risk_conclusion: action_required
  working_hours: {timezone: Europe/Berlin, days: [mon, tue], start: "08:00", end: "17:30"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Thresholds != (Thresholds{25, 70, true}) || p.Weight("migration") != 40 || p.Weight("config") != 0 || p.Weight("auth") != 20 {
		t.Fatalf("thresholds/weights: %+v %v", p.Thresholds, p.Weights)
	}
	if !p.Paths[0].Glob.Match("payments/api/charge.go") || p.Paths[0].Rule != "payments" {
		t.Fatalf("paths: %+v", p.Paths)
	}
	if got := p.NeedsHuman("db/migrate/001.rb"); len(got) != 1 || len(p.NeedsHuman(".github/workflows/sub/x.yml")) != 0 {
		t.Fatalf("require_human: %v", got)
	}
	if p.HighRiskConclusion != "action_required" || p.WorkingHours.Location.String() != "Europe/Berlin" ||
		p.WorkingHours.End != 17*time.Hour+30*time.Minute || len(p.WorkingHours.Days) != 2 {
		t.Fatalf("policy: %+v", p)
	}
}

func TestParseBuild(t *testing.T) {
	p, err := Parse([]byte("version: 1\nbuild:\n  optimize_dockerfiles: auto\n"))
	if err != nil || !p.OptimizeDockerfiles || Default().OptimizeDockerfiles {
		t.Fatalf("%+v %v", p.OptimizeDockerfiles, err)
	}
	if _, err := Parse([]byte("version: 1\nbuild:\n  optimize_dockerfiles: always\n")); err == nil {
		t.Fatal("an unknown mode was accepted")
	}
}

func TestParseEmptyIsDefault(t *testing.T) {
	for _, in := range []string{"", "\n# nothing\n"} {
		p, err := Parse([]byte(in))
		if err != nil || p.Thresholds != Default().Thresholds {
			t.Fatalf("%q: %+v, %v", in, p, err)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name, file string
		line       int
		mention    string
	}{
		{"not YAML", "risk:\n  thresholds: [\n", 3, "not valid YAML"},
		{"unknown key", "version: 1\nrisk:\n  treshold: 3\n", 3, "treshold"},
		{"wrong type", "risk:\n  thresholds:\n    medium: low\n", 3, "/risk/thresholds/medium"},
		{"out of range", "risk:\n  weights:\n    auth: 500\n", 3, "/risk/weights/auth"},
		{"bad enum", "risk:\n  high_risk_conclusion: block\n", 2, "high_risk_conclusion"},
		{"medium above high", "risk:\n  thresholds:\n    medium: 80\n    high: 50\n", 2, "medium (80) must be below high (50)"},
		{"unknown time zone", "risk:\n  working_hours:\n    timezone: Mars/Olympus\n", 3, "Mars/Olympus"},
		{"path rule without weight", "risk:\n  paths:\n    - glob: x/**\n      rule: x\n", 3, "weight"},
		{"wrong version", "version: 2\n", 1, "/version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.file))
			ie, ok := err.(*InvalidError)
			if !ok {
				t.Fatalf("err = %v, want *InvalidError", err)
			}
			if ie.Problems[0].Line != tt.line || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("problems %+v; want line %d mentioning %q", ie.Problems, tt.line, tt.mention)
			}
		})
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		glob, path string
		want       bool
	}{
		{"db/**", "db/migrate/001.rb", true},
		{"db/**", "db", false},
		{"**/*.sql", "a/b/c.sql", true},
		{"**/*.sql", "c.sql", true},
		{"*.go", "a/b.go", false},
		{"src/?.go", "src/a.go", true},
		{"a.b", "aXb", false},
	}
	for _, tt := range tests {
		if got := NewGlob(tt.glob).Match(tt.path); got != tt.want {
			t.Errorf("%q ~ %q = %v, want %v", tt.glob, tt.path, got, tt.want)
		}
	}
}

func TestWorkingHours(t *testing.T) {
	w := Default().WorkingHours
	tests := []struct {
		at   string
		open bool
	}{
		{"2026-11-24T10:00:00Z", true},  // Tuesday morning
		{"2026-11-24T20:00:00Z", false}, // Tuesday evening
		{"2026-11-27T16:00:00Z", false}, // Friday afternoon
		{"2026-11-28T10:00:00Z", false}, // Saturday
	}
	for _, tt := range tests {
		at, _ := time.Parse(time.RFC3339, tt.at)
		if open, why := w.Open(at); open != tt.open {
			t.Errorf("%s: open=%v (%s), want %v", tt.at, open, why, tt.open)
		}
	}
}

// TestExamplePolicy: the example published in manifest/ parses, and its
// defaults are the built-in ones.
func TestExamplePolicy(t *testing.T) {
	data, err := os.ReadFile("../../manifest/ferry.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if p.Thresholds != Default().Thresholds {
		t.Errorf("example thresholds %+v, defaults %+v", p.Thresholds, Default().Thresholds)
	}
	for rule, w := range DefaultWeights() {
		if p.Weight(rule) != w {
			t.Errorf("example weight %s = %v, default %v", rule, p.Weight(rule), w)
		}
	}
}

func TestEnvironments(t *testing.T) {
	p, err := Parse([]byte(`version: 1
environments:
  staging:
    namespace: api
    deployments: [{name: api, container: app}]
    image: "ghcr.io/acme/api:{{ .SHA }}"
    auto_deploy: true
  production:
    namespace: api
    deployments: [{name: api}]
    image: "ghcr.io/acme/api:{{ .SHA }}"
    service: api
    strategy: hotfix
    canary: {steps: [10, 50, 100], pause: 2m}
    progress_deadline: 90s
    freeze: [{from: "2026-12-24T00:00:00Z", to: "2026-12-27T00:00:00Z", reason: holidays}]
`))
	if err != nil {
		t.Fatal(err)
	}
	st, prod := p.Environments["staging"], p.Environments["production"]
	if !st.AutoDeploy || st.NeedsHuman || st.Workloads[0] != (Workload{"api", "app"}) || !slices.Equal(st.Strategies, []Strategy{Rolling, Canary}) ||
		st.CanaryPause != 30*time.Second || st.ProgressDeadline != 10*time.Minute {
		t.Fatalf("staging %+v", st)
	}
	if !prod.NeedsHuman || !prod.Allows("blue-green") || !prod.Allows("hotfix") || prod.CanaryPause != 2*time.Minute ||
		prod.ProgressDeadline != 90*time.Second || !slices.Equal(prod.CanarySteps, []int{10, 50, 100}) {
		t.Fatalf("production %+v", prod)
	}
	if f, ok := prod.Frozen(time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC)); !ok || f.Reason != "holidays" {
		t.Fatal("Christmas is not frozen")
	}
	for _, bad := range []string{
		"version: 1\nenvironments:\n  prod:\n    namespace: api\n    deployments: [{name: api}]\n    image: x\n    strategy: blue-green\n",
		"version: 1\nenvironments:\n  prod:\n    namespace: api\n    deployments: [{name: api}]\n    image: x\n    canary: {steps: [50, 20]}\n",
		"version: 1\nenvironments:\n  Prod_1:\n    namespace: api\n    deployments: [{name: api}]\n    image: x\n",
		"version: 1\nenvironments:\n  prod:\n    namespace: api\n    image: x\n",
	} {
		if _, err := Parse([]byte(bad)); !IsInvalid(err) {
			t.Errorf("accepted:\n%s(%v)", bad, err)
		}
	}
}

// TestAttack_UnscopedAnalysisQuery: an analysis query whose selectors are
// not held to the environment's namespace could read — and post on a pull
// request — another team's series: refused with its line, unless the
// server's operator allows it.
func TestAttack_UnscopedAnalysisQuery(t *testing.T) {
	const file = `version: 1
environments:
  production:
    namespace: shop
    deployments: [{name: api}]
    image: "x:{{ .SHA }}"
    analysis:
      metrics:
        - name: scoped
          query: 'sum(rate(http_requests_total{namespace="{{ .Namespace }}",track="{{ .Track }}"}[{{ .Window }}]))'
          max: 1
        - name: theirs
          query: 'sum(rate(http_requests_total{namespace="payments"}[1m])) / sum(rate(up{namespace="{{ .Namespace }}"}[1m]))'
          max: 1
        - name: regex
          query: 'sum(rate(x{namespace=~"{{ .Namespace }}|payments"}[1m]))'
          max: 1
        - name: or-group
          query: 'sum(x{namespace="{{ .Namespace }}" or job="payments"})'
          max: 1
`
	_, err := Parse([]byte(file))
	var ie *InvalidError
	if !errors.As(err, &ie) {
		t.Fatalf("unscoped queries accepted: %v", err)
	}
	var lines []int
	for _, p := range ie.Problems {
		lines = append(lines, p.Line)
		if !strings.Contains(p.Message, "without namespace=") {
			t.Errorf("problem %q does not say why", p.Message)
		}
	}
	if diff := cmp.Diff([]int{13, 16, 19}, lines); diff != "" {
		t.Errorf("problem lines (-want +got):\n%s", diff)
	}
	if _, err := ParseWith([]byte(file), Options{AllowUnscopedQueries: true}); err != nil {
		t.Fatalf("the operator's allowance: %v", err)
	}
}

func TestRelease(t *testing.T) {
	p, err := Parse([]byte(`version: 1
release:
  enabled: true
  components:
    - {name: api, paths: ["services/api/**"], version_files: [services/api/VERSION]}
    - {name: web, paths: ["web/**"], tag_pattern: "web@{version}", changelog: web/CHANGELOG.md}
  sections: {labels: {bug: Bug fixes}}
  prerelease: rc
`))
	if err != nil {
		t.Fatal(err)
	}
	r := p.Release
	if !r.Enabled || len(r.Components) != 2 || r.Prerelease != "rc" || r.Labels["bug"] != "Bug fixes" {
		t.Fatalf("release %+v", r)
	}
	api, web := r.Components[0], r.Components[1]
	if api.TagPattern != "api-v{version}" || api.Changelog != "services/api/CHANGELOG.md" || !api.Paths[0].Match("services/api/main.go") ||
		api.Branch() != "ferry/release/api" || web.TagPattern != "web@{version}" {
		t.Fatalf("components %+v", r.Components)
	}
	if d := Default().Release; d.Enabled || len(d.Components) != 1 || d.Components[0].TagPattern != "v{version}" || d.Components[0].Branch() != "ferry/release" {
		t.Fatalf("default %+v", d)
	}
	if _, err := Parse([]byte("version: 1\nrelease: {tag_pattern: v1}\n")); !IsInvalid(err) {
		t.Fatalf("a tag pattern without {version}: %v", err)
	}
}

func TestGateOnlyEnvironment(t *testing.T) {
	p, err := Parse([]byte("version: 1\nenvironments:\n  production: {needs_human: true, freeze: [{from: 2026-12-24T00:00:00Z, to: 2026-12-27T00:00:00Z}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if e := p.Environments["production"]; e.Deploys() || !e.NeedsHuman || len(e.Freezes) != 1 {
		t.Fatalf("gate-only environment %+v", e)
	}
	// Half a deploy target is a mistake, not a gate.
	if _, err := Parse([]byte("version: 1\nenvironments:\n  staging: {namespace: web}\n")); !IsInvalid(err) {
		t.Fatalf("a namespace without deployments and image: %v", err)
	}
}

// TestLearningPolicy: the fast-path share and learning bounds are read;
// explicit thresholds are marked as such; out-of-range values are problems.
func TestLearningPolicy(t *testing.T) {
	for _, tt := range []struct {
		name, yml string
		want      Learning
		explicit  bool
		problem   bool
	}{
		{"defaults", "version: 1\n", Learning{Enabled: true, FastPathShare: 0.6, BackfillCommits: 2000, BackfillDays: 730}, false, false},
		{"share and bounds", "version: 1\nrisk:\n  fast_path_share: 0.75\n  learning: {enabled: false, backfill_commits: 100, backfill_days: 30}\n",
			Learning{FastPathShare: 0.75, BackfillCommits: 100, BackfillDays: 30}, false, false},
		{"explicit thresholds", "version: 1\nrisk:\n  thresholds: {medium: 30}\n", Learning{Enabled: true, FastPathShare: 0.6, BackfillCommits: 2000, BackfillDays: 730}, true, false},
		{"share out of range", "version: 1\nrisk:\n  fast_path_share: 1.5\n", Learning{}, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.yml))
			if tt.problem {
				if err == nil {
					t.Fatalf("accepted: %+v", p.Learning)
				}
				return
			}
			if err != nil || p.Learning != tt.want || p.Thresholds.Explicit != tt.explicit {
				t.Fatalf("got %+v explicit %v, %v", p.Learning, p.Thresholds.Explicit, err)
			}
		})
	}
}

// TestAttack_UnscopedHistogramSelector: a slow-requests metric names a
// histogram and a selector instead of a query; ferry builds the queries,
// and a selector not held to the environment's namespace — or one that
// breaks out of its braces to read other series — is refused the same way.
func TestAttack_UnscopedHistogramSelector(t *testing.T) {
	for _, tc := range []struct {
		name, selector string
		ok             bool
	}{
		{"default selector", "", true},
		{"scoped", `namespace="{{ .Namespace }}",track="{{ .Track }}",route="/pay"`, true},
		{"another namespace", `namespace="payments",track="{{ .Track }}"`, false},
		{"no namespace", `track="{{ .Track }}"`, false},
		{"breaks out of the braces", `namespace="{{ .Namespace }}"}[1m])) or sum(rate(x_bucket{namespace="payments"`, false},
		{"another namespace at run time", `namespace="{{if eq .Track "stable"}}{{.Namespace}}{{else}}payments{{end}}"`, false},
		{"a pipe", `namespace="{{ .Namespace | printf "payments" }}"`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel := ""
			if tc.selector != "" {
				sel = "\n          selector: '" + tc.selector + "'"
			}
			_, err := Parse([]byte(`version: 1
environments:
  production:
    namespace: shop
    deployments: [{name: api}]
    image: "x:{{ .SHA }}"
    analysis:
      metrics:
        - name: slow requests
          histogram: http_request_duration_seconds` + sel + "\n"))
			if tc.ok != (err == nil) {
				t.Fatalf("accepted %v: %v", err == nil, err)
			}
			if err != nil && !strings.Contains(err.Error(), "without namespace=") && !strings.Contains(err.Error(), "not valid PromQL") &&
				!strings.Contains(err.Error(), "template logic") {
				t.Fatalf("does not say why: %v", err)
			}
		})
	}
}

// TestPromotion: a production-deploy pull request's settings, their
// defaults, and the mistakes a policy can make with them.
func TestPromotion(t *testing.T) {
	const envs = "version: 1\nenvironments:\n  staging: {namespace: web, deployments: [{name: api}], image: 'x:{{ .SHA }}'}\n" +
		"  production:\n    namespace: prod\n    deployments: [{name: api}]\n    image: 'x:{{ .SHA }}'\n"
	p, err := Parse([]byte(envs + "    promote: pull_request\n    promote_from: staging\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Promotion{Via: PromotePullRequest, From: "staging", Branch: "deploy/production"}
	if got := p.Environments["production"].Promote; got != want || !p.Environments["production"].Promoted() || p.Environments["staging"].Promoted() {
		t.Fatalf("promotion %+v, want %+v", got, want)
	}
	for _, tt := range []struct{ name, extra, mention string }{
		{"unknown source", "    promote: pull_request\n    promote_from: qa\n", `"qa", which is not an environment`},
		{"itself", "    promote: pull_request\n    promote_from: production\n", "cannot promote from itself"},
		{"source without promote", "    promote_from: staging\n", "need promote: pull_request"},
		{"bad branch", "    promote: pull_request\n    promote_branch: deploy/../main\n", "not a branch name"},
		{"unknown way", "    promote: merge\n", "promote"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(envs + tt.extra))
			if !IsInvalid(err) || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.mention)
			}
		})
	}
	gateOnly := "version: 1\nenvironments:\n  production: {promote: pull_request}\n"
	if _, err := Parse([]byte(gateOnly)); !IsInvalid(err) || !strings.Contains(err.Error(), "needs a namespace") {
		t.Fatalf("promotion to an environment ferry does not deploy: %v", err)
	}
}

// TestTestsPolicy: the tests section's quarantine settings over their
// defaults, and the map; a bad window is a problem.
func TestTestsPolicy(t *testing.T) {
	if q := Default().Quarantine; q.Auto || q.MinEvents != 2 || q.Window != 14*24*time.Hour || q.ReleaseAfter != 20 {
		t.Fatalf("defaults %+v", q)
	}
	p, err := Parse([]byte("version: 1\ntests:\n  quarantine: {auto: true, min_events: 3, window: 48h}\n  map:\n    - {glob: 'docs/**', targets: [docs-lint]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if q := p.Quarantine; !q.Auto || q.MinEvents != 3 || q.Window != 48*time.Hour || q.ReleaseAfter != 20 {
		t.Fatalf("quarantine %+v", q)
	}
	if len(p.TestMap) != 1 || p.TestMap[0].Glob != "docs/**" || p.TestMap[0].Targets[0] != "docs-lint" {
		t.Fatalf("map %+v", p.TestMap)
	}
	if _, err := Parse([]byte("version: 1\ntests:\n  quarantine: {window: 2w}\n")); !IsInvalid(err) {
		t.Fatalf("a bad window: %v", err)
	}
}
