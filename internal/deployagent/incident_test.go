package deployagent_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/deployagent"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/kubetest"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/promtest"
)

// incidentPolicy watches a 50% canary for up to a minute, checking every
// second the error ratio over the last 5 s of the test app's canary track.
const incidentPolicy = `version: 1
environments:
  production:
    namespace: NS
    needs_human: false
    deployments: [{name: api}]
    image: "ghcr.io/acme/api:{{ .ShortSHA }}"
    strategy: canary
    canary: {steps: [50, 100], pause: 60s}
    progress_deadline: 60s
    analysis:
      interval: 1s
      window: 5s
      fail_after: 2
      metrics:
        - name: error rate
          query: '(sum(rate(http_requests_total{app="APP",track="{{ .Track }}",code="500"}[{{ .Window }}])) or vector(0)) / sum(rate(http_requests_total{app="APP",track="{{ .Track }}"}[{{ .Window }}]))'
          max: 0.05
`

// TestIncident_ErrorSpike: the canary starts failing half its requests;
// ferry sees it in Prometheus and rolls back on its own — the canary
// retired, the stable version serving, the evidence on GitHub and in the
// audit trail. The pods are fake (kwok), so the test tells the test app to
// fail the canary track once the canary's pods are up.
func TestIncident_ErrorSpike(t *testing.T) {
	promtest.URL(t)
	name := uniqueApp("spike")
	app := promtest.StartApp(t, name, 40, map[string]promtest.Behaviour{
		"stable": {Latency: 50 * time.Millisecond}, "canary": {Latency: 50 * time.Millisecond}})
	w := setup(t, strings.ReplaceAll(incidentPolicy, "APP", name))
	d := w.request(t, "production", "2", false, false)
	w.waitCanary(t, "2")
	time.Sleep(2 * time.Second) // a few healthy checks first
	app.Set("canary", promtest.Behaviour{ErrorRate: 0.5, Latency: 50 * time.Millisecond})
	failing := time.Now()
	end := w.wait(t, d.ID)
	took := time.Since(failing)
	t.Logf("from the canary failing to the rollback complete: %s (scrape 1s, checks every 1s, 2 failed checks, 5s rate window)", took.Round(10*time.Millisecond))
	if end.Status != deploy.Failed || !strings.Contains(end.Message, "rolled back automatically") || !strings.Contains(end.Message, "error rate") {
		t.Fatalf("deploy %s: %s", end.Status, end.Message)
	}
	c, err := w.cs.AppsV1().Deployments(w.ns).Get(context.Background(), "api-canary", metav1.GetOptions{})
	if err != nil || *c.Spec.Replicas != 0 {
		t.Fatalf("the canary still runs: %v", err)
	}
	w.expectServing(t, "after the rollback", "app=api", map[string]int{"ghcr.io/acme/api:" + sha("0")[:8]: 3})
	if got := w.githubStates(t); len(got) != 1 || !strings.HasSuffix(got[0], ",failure") {
		t.Fatalf("GitHub deployments %v", got)
	}

	// ferry does not re-deploy the rolled-back commit by itself ...
	_, err = w.agent.Request(context.Background(), deployagent.Request{ID: "auto-again", InstallationID: inst, RepositoryID: w.repoID,
		Owner: owner, Repo: "api", DefaultBranch: "main", Env: w.env(t, "production"), SHA: sha("2"), Actor: "ferry"})
	if !errors.Is(err, deployagent.ErrRolledBack) {
		t.Fatalf("ferry re-deployed a rolled-back commit: %v", err)
	}
	// ... a human may; healthy this time, the rollback was probably a false positive.
	app.Set("canary", promtest.Behaviour{Latency: 50 * time.Millisecond})
	time.Sleep(7 * time.Second) // the 5 s rate window forgets the errors
	w.sim.SetFile(repo, "main", ".github/ferry.yml", strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(incidentPolicy, "APP", name), "NS", w.ns), "pause: 60s", "pause: 3s"))
	again, err := w.agent.Request(context.Background(), deployagent.Request{ID: "human-again", InstallationID: inst, RepositoryID: w.repoID,
		Owner: owner, Repo: "api", DefaultBranch: "main", Env: w.env(t, "production"), SHA: sha("2"), Actor: "max"})
	if err != nil {
		t.Fatal(err)
	}
	succeeded(t, w.wait(t, again.ID))
	ds, err := w.db.Decisions(context.Background(), audit.Filter{Repository: repo})
	if err != nil {
		t.Fatal(err)
	}
	judged := false
	for _, dec := range ds {
		if dec.ID == "rollback-"+d.ID && (len(dec.Reasons) == 0 || !strings.Contains(strings.Join(dec.Reasons[0].Evidence, " "), "query: (sum(rate(http_requests_total")) {
			t.Fatalf("the rollback's evidence lacks the query: %+v", dec.Reasons)
		}
		judged = judged || (dec.ID == "rollback-"+d.ID && dec.Outcome == "probable-false-positive")
	}
	if !judged {
		t.Fatalf("the rollback's outcome was not recorded: %+v", ds)
	}
}

// TestIncident_NoisyCanaryPromoted: canary and stable are equally noisy
// (2% errors, jittery latency): no false rollback — the canary is promoted.
func TestIncident_NoisyCanaryPromoted(t *testing.T) {
	promtest.URL(t)
	name := uniqueApp("noisy")
	promtest.StartApp(t, name, 40, map[string]promtest.Behaviour{
		"stable": {ErrorRate: 0.02, Latency: 80 * time.Millisecond}, "canary": {ErrorRate: 0.02, Latency: 80 * time.Millisecond}})
	// A 10 s window over 10 s of history: 400 requests a window, so 2%
	// errors (8 expected) stay far from the 5% ceiling (20) in every check
	// — a 5 s window of a fresh series holds too few to judge noise by.
	policy := strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(incidentPolicy, "APP", name), "pause: 60s", "pause: 6s"),
		"window: 5s", "window: 10s") + `        - name: p99 latency
          query: 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{app="` + name + `",track="{{ .Track }}"}[{{ .Window }}])))'
          compare: true
          min_effect: 0.25
`
	w := setup(t, policy)
	time.Sleep(10 * time.Second) // a window's history for the comparison
	d := w.wait(t, w.request(t, "production", "2", false, false).ID)
	succeeded(t, d)
	w.expectServing(t, "after the promotion", "app=api", map[string]int{image("2"): 3})
}

// TestIncident_NoData: the canary gets no traffic, so there is nothing to
// judge — low traffic is not health: the deploy holds and says why.
func TestIncident_NoData(t *testing.T) {
	promtest.URL(t)
	name := uniqueApp("quiet")
	promtest.StartApp(t, name, 40, map[string]promtest.Behaviour{"stable": {Latency: 50 * time.Millisecond}})
	w := setup(t, strings.ReplaceAll(incidentPolicy, "APP", name))
	d := w.request(t, "production", "2", false, false)
	waitUntil(t, "the deploy to hold for lack of data", func() bool {
		got, _ := w.db.GetDeploy(context.Background(), d.ID)
		return got.Status == deploy.Running && strings.Contains(got.Message, "held: error rate: no samples")
	})
}

const latencyMetric = `        - name: p99 latency
          query: 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{app="APP",track="{{ .Track }}"}[{{ .Window }}])))'
          compare: true
          min_effect: 0.25
`

// TestIncident_LatencyRegression: the canary answers four times slower
// than stable, without errors; the comparison with the stable track rolls
// it back, and the evidence names the test.
func TestIncident_LatencyRegression(t *testing.T) {
	promtest.URL(t)
	name := uniqueApp("slow")
	app := promtest.StartApp(t, name, 40, map[string]promtest.Behaviour{
		"stable": {Latency: 60 * time.Millisecond}, "canary": {Latency: 60 * time.Millisecond}})
	w := setup(t, strings.ReplaceAll(incidentPolicy+latencyMetric, "APP", name))
	time.Sleep(3 * time.Second)
	d := w.request(t, "production", "2", false, false)
	w.waitCanary(t, "2")
	app.Set("canary", promtest.Behaviour{Latency: 600 * time.Millisecond})
	end := w.wait(t, d.ID)
	if end.Status != deploy.Failed || !strings.Contains(end.Message, "p99 latency") || !strings.Contains(end.Message, "Mann-Whitney") {
		t.Fatalf("deploy %s: %s", end.Status, end.Message)
	}
}

// TestIncident_ExpectedChange: the canary logs far more (the change's
// purpose) and the policy marks that metric as expected: measured, shown,
// not judged — promoted.
func TestIncident_ExpectedChange(t *testing.T) {
	promtest.URL(t)
	name := uniqueApp("logs")
	promtest.StartApp(t, name, 40, map[string]promtest.Behaviour{
		"stable": {Latency: 50 * time.Millisecond}, "canary": {Latency: 900 * time.Millisecond}})
	expected := strings.ReplaceAll(latencyMetric, "compare: true", "compare: true\n          ignore: true")
	policy := strings.ReplaceAll(strings.ReplaceAll(incidentPolicy+expected, "APP", name), "pause: 60s", "pause: 5s")
	w := setup(t, policy)
	time.Sleep(3 * time.Second)
	succeeded(t, w.wait(t, w.request(t, "production", "2", false, false).ID))
}

// TestIncident_PrometheusDown: Prometheus stops answering mid-analysis
// (ferry reaches it through a proxy the test closes): the deploy holds and
// says the metrics are unavailable — never a silent pass — and the canary
// is not promoted.
func TestIncident_PrometheusDown(t *testing.T) {
	target, err := url.Parse(promtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	t.Setenv("FERRY_TEST_PROMETHEUS", proxy.URL)
	name := uniqueApp("down")
	promtest.StartApp(t, name, 40, map[string]promtest.Behaviour{
		"stable": {Latency: 50 * time.Millisecond}, "canary": {Latency: 50 * time.Millisecond}})
	w := setup(t, strings.ReplaceAll(incidentPolicy, "APP", name))
	d := w.request(t, "production", "2", false, false)
	waitUntil(t, "the analysis to run", func() bool {
		got, _ := w.db.GetDeploy(context.Background(), d.ID)
		return strings.Contains(got.Message, "watch the 50% canary")
	})
	proxy.Close()
	waitUntil(t, "the deploy to hold", func() bool {
		got, _ := w.db.GetDeploy(context.Background(), d.ID)
		return got.Status == deploy.Running && strings.Contains(got.Message, "held: metrics unavailable")
	})
	c, err := w.cs.AppsV1().Deployments(w.ns).Get(context.Background(), "api", metav1.GetOptions{})
	if err != nil || c.Spec.Template.Spec.Containers[0].Image != image("0") {
		t.Fatalf("stable was promoted while blind: %v", err)
	}
}

// TestIncident_MigrationHeld: the metrics condemn a canary whose commits
// add a migration. ferry does not roll back blindly: it holds, pages a
// human on the pull request with the evidence and the migration file, and
// keeps the canary. `/ferry rollback --force` (RollbackRunning) then rolls
// it back.
func TestIncident_MigrationHeld(t *testing.T) {
	promtest.URL(t)
	appName := uniqueApp("mig")
	app := promtest.StartApp(t, appName, 40, map[string]promtest.Behaviour{
		"stable": {Latency: 50 * time.Millisecond}, "canary": {Latency: 50 * time.Millisecond}})
	policy := strings.ReplaceAll(strings.ReplaceAll(incidentPolicy, "APP", appName), "pause: 60s", "pause: 3s")
	w := setup(t, policy)
	succeeded(t, w.deploy(t, "production", "1", false)) // healthy: promoted, the known-good base
	// The watch is long now: the incident comes while the canary holds.
	w.sim.SetFile(repo, "main", ".github/ferry.yml", strings.ReplaceAll(strings.ReplaceAll(incidentPolicy, "APP", appName), "NS", w.ns))
	w.sim.AddComparison(repo, sha("1"), sha("2"), []githubsim.File{
		{Filename: "db/migrate/20261124_add_orders.sql", Status: "added", Additions: 1, Patch: "@@ -0,0 +1 @@\n+ALTER TABLE orders ADD COLUMN total int;"},
		{Filename: "internal/orders/orders.go", Status: "modified", Additions: 3, Patch: "@@ -1 +1,3 @@\n x\n+y\n+z"}}, nil)
	n := w.sim.AddPullRequest(repo, githubsim.PullRequest{Title: "Orders total", HeadSHA: sha("2")})
	d, err := w.agent.Request(context.Background(), deployagent.Request{ID: "mig-2", InstallationID: inst, RepositoryID: w.repoID,
		Owner: owner, Repo: name, DefaultBranch: "main", Env: w.env(t, "production"), SHA: sha("2"), Number: n, Actor: "max"})
	if err != nil {
		t.Fatal(err)
	}
	w.waitCanary(t, "2")
	app.Set("canary", promtest.Behaviour{ErrorRate: 0.5, Latency: 50 * time.Millisecond})
	waitUntil(t, "the hold", func() bool {
		got, _ := w.db.GetDeploy(context.Background(), d.ID)
		return got.Status == deploy.Running && strings.Contains(got.Message, "adds migrations (db/migrate/20261124_add_orders.sql)")
	})
	waitUntil(t, "the page on the pull request", func() bool {
		for _, c := range w.sim.Comments(repo, n) {
			if strings.Contains(c.Body, "ferry needs a human in **production**") && strings.Contains(c.Body, "adds migrations") {
				return true
			}
		}
		return false
	})
	if got := kubetest.Images(t, w.cs, w.ns, "app=api,ferry.dev/track=canary"); got[image("2")] == 0 {
		t.Fatalf("the canary was retired without a human: %v", got)
	}
	if _, err := w.agent.RollbackRunning(context.Background(), w.repoID, "production", "max", false); err == nil {
		t.Fatal("rolled back over a migration without --force")
	}
	if _, err := w.agent.RollbackRunning(context.Background(), w.repoID, "production", "max", true); err != nil {
		t.Fatal(err)
	}
	end := w.wait(t, d.ID)
	if end.Status != deploy.Failed || end.Message != "rolled back by @max" {
		t.Fatalf("deploy %s: %s", end.Status, end.Message)
	}
	c, err := w.cs.AppsV1().Deployments(w.ns).Get(context.Background(), "api-canary", metav1.GetOptions{})
	if err != nil || *c.Spec.Replicas != 0 {
		t.Fatalf("the canary still runs after --force: %v", err)
	}
}

// TestIncident_RollingWatched: a rolling deploy is watched after every pod
// runs it; when its errors climb, ferry rolls the Deployment back to what
// ran before.
func TestIncident_RollingWatched(t *testing.T) {
	promtest.URL(t)
	appName := uniqueApp("roll")
	app := promtest.StartApp(t, appName, 40, map[string]promtest.Behaviour{"stable": {Latency: 50 * time.Millisecond}})
	policy := strings.ReplaceAll(strings.ReplaceAll(incidentPolicy, "APP", appName), "strategy: canary", "strategy: rolling")
	policy = strings.Replace(policy, "      interval: 1s\n", "      interval: 1s\n      watch: 60s\n", 1)
	w := setup(t, policy)
	d := w.request(t, "production", "2", false, false)
	waitUntil(t, "the watch after the rollout", func() bool {
		got, _ := w.db.GetDeploy(context.Background(), d.ID)
		return strings.Contains(got.Message, "watch the metrics for 1m0s after the rollout")
	})
	app.Set("stable", promtest.Behaviour{ErrorRate: 0.5, Latency: 50 * time.Millisecond})
	end := w.wait(t, d.ID)
	if end.Status != deploy.Failed || !strings.Contains(end.Message, "rolled back automatically") {
		t.Fatalf("deploy %s: %s", end.Status, end.Message)
	}
	w.expectServing(t, "after the rollback", "app=api", map[string]int{image("0"): 3})
}

// TestIncident_DefaultMetrics: an environment that asks for analysis but
// names no metrics gets the HTTP RED defaults (error rate ≤ 1%, p99 ≤
// 500 ms), read from series labelled with the namespace and track.
func TestIncident_DefaultMetrics(t *testing.T) {
	promtest.URL(t)
	w := setup(t, `version: 1
environments:
  production:
    namespace: NS
    needs_human: false
    deployments: [{name: api}]
    image: "ghcr.io/acme/api:{{ .ShortSHA }}"
    strategy: canary
    canary: {steps: [50, 100], pause: 60s}
    progress_deadline: 60s
    analysis: {interval: 1s, window: 10s}
`)
	appName := uniqueApp("red")
	app := promtest.StartApp(t, appName, 40, map[string]promtest.Behaviour{
		"stable": {Latency: 50 * time.Millisecond}, "canary": {Latency: 50 * time.Millisecond}}, map[string]string{"namespace": w.ns})
	time.Sleep(3 * time.Second)
	d := w.request(t, "production", "2", false, false)
	w.waitCanary(t, "2")
	app.Set("canary", promtest.Behaviour{ErrorRate: 0.2, Latency: 50 * time.Millisecond})
	end := w.wait(t, d.ID)
	if end.Status != deploy.Failed || !strings.Contains(end.Message, "error rate") || !strings.Contains(end.Message, "> 0.01") {
		t.Fatalf("deploy %s: %s", end.Status, end.Message)
	}
}

// TestIncident_WatchFromRoute: where the policy sets no watch after the
// rollout, the risk route's decides (longer for riskier changes).
func TestIncident_WatchFromRoute(t *testing.T) {
	promtest.URL(t)
	w := setup(t, strings.ReplaceAll(incidentPolicy, "APP", "none"))
	d, err := w.agent.Request(context.Background(), deployagent.Request{ID: "routed", InstallationID: inst, RepositoryID: w.repoID,
		Owner: owner, Repo: "api", DefaultBranch: "main", Env: w.env(t, "production"), SHA: sha("2"), Actor: "max",
		Proposed: "canary", Watch: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var env policy.Environment
	if err := json.Unmarshal(d.Env, &env); err != nil || env.Analysis.Watch != 30*time.Minute {
		t.Fatalf("watch %v (%v)", env.Analysis, err)
	}
}

// uniqueApp names a test app (its Prometheus label) apart from every other
// test's.
func uniqueApp(prefix string) string {
	return strings.ReplaceAll(prefix+"-"+time.Now().Format("150405.000000"), ".", "")
}

// waitCanary waits until a canary pod of version v is Ready — the moment
// a test tells the app the canary track changed.
func (w *world) waitCanary(t testing.TB, v string) {
	t.Helper()
	waitUntil(t, "the canary's pods", func() bool {
		return kubetest.Images(t, w.cs, w.ns, "app=api,ferry.dev/track=canary")[image(v)] >= 1
	})
}
