package deployagent_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/control"
	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/deployagent"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/jobs"
	"github.com/ferry-ci/ferry/internal/kube"
	"github.com/ferry-ci/ferry/internal/kubetest"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/prom"
	"github.com/ferry-ci/ferry/internal/store"
)

const (
	inst  = int64(61)
	owner = "acme"
	name  = "api"
	repo  = owner + "/" + name
)

var quiet = slog.New(slog.DiscardHandler)

type noDeliveries struct{}

func (noDeliveries) HandleDelivery(context.Context, event.Delivery) error { return nil }

type world struct {
	sim    *githubsim.Sim
	db     *store.DB
	agent  *deployagent.Agent
	deps   deployagent.Deps // to make another agent over the same state
	gh     *github.App
	cs     kubernetes.Interface
	ns     string
	repoID int64
}

// setup: a namespace on the real control plane with Deployment and Service
// "api" (3 pods of v0), the simulator with the policy on main, and ferry's
// agent working its jobs through a real queue on SQLite.
func setup(t testing.TB, envPolicy string, wrap ...func(deployagent.Progress) deployagent.Progress) *world {
	t.Helper()
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	kubetest.App(t, cs, ns, "api", image("0"), 3)
	sim := githubsim.New(t, githubsim.Config{})
	sim.AddInstallation(inst, owner)
	repoID := sim.AddRepo(inst, repo)
	sim.SetFile(repo, "main", policy.Path, strings.ReplaceAll(envPolicy, "NS", ns))
	for _, v := range "123456789" {
		// What the cluster ran first (v0) as GitHub compares it with each
		// version: no migrations between them.
		sim.AddComparison(repo, sha("0")[:8], sha(string(v)), nil, nil)
	}
	gh, err := github.New(github.Config{AppID: sim.AppID(), PrivateKey: sim.PrivateKeyPEM(), BaseURL: sim.URL(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := kube.Connect(kube.Config{Kubeconfig: kubetest.Kubeconfig(t)})
	if err != nil {
		t.Fatal(err)
	}
	db := dbtest.Open(t, dbtest.SQLiteURL(t))
	var q *jobs.Queue
	var st deployagent.Progress = db
	for _, w := range wrap {
		st = w(st)
	}
	var metrics deployagent.Metrics
	if u := os.Getenv("FERRY_TEST_PROMETHEUS"); u != "" {
		if metrics, err = prom.New(u); err != nil {
			t.Fatal(err)
		}
	}
	allowAll, _ := deployagent.ParseAllow([]string{"*=*"})
	deps := deployagent.Deps{
		GitHub:    func(int64) deployagent.GitHub { return gh.Installation(inst) },
		CI:        func(int64) deployagent.CI { return gh.Installation(inst) },
		Clusters:  func(policy.Environment) (deployagent.Kube, error) { return cluster, nil },
		Scheduler: func() deployagent.Scheduler { return q },
		Deploys:   db, Progress: st, Steps: db, Control: db, Audit: db}
	agent := deployagent.New(deployagent.Config{Logger: quiet, Poll: 200 * time.Millisecond, Metrics: metrics, Allow: allowAll,
		AppID: sim.AppID()}, deps)
	q, err = jobs.New(db, jobs.Config{Workers: 4, Logger: quiet, Steps: map[string]jobs.Step{deployagent.StepName: {Run: agent.Step, GiveUp: agent.GiveUp}}},
		noDeliveries{}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		_ = q.Stop(sctx)
	})
	return &world{sim: sim, db: db, agent: agent, deps: deps, gh: gh, cs: cs, ns: ns, repoID: repoID}
}

// env is an environment as the application would hand it to the agent:
// from the policy on the default branch (read as the application does).
// One team's ferry: its tests' queries select the test app by name, not by
// namespace (scoping has its own attack test).
func (w *world) env(t testing.TB, envName string) policy.Environment {
	t.Helper()
	data, err := w.gh.Installation(inst).FileContent(context.Background(), owner, name, policy.Path, "main")
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.ParseWith(data, policy.Options{AllowUnscopedQueries: true})
	if err != nil {
		t.Fatal(err)
	}
	env, ok := p.Environments[envName]
	if !ok {
		t.Fatalf("no environment %s", envName)
	}
	return env
}

func sha(v string) string { return strings.Repeat(v, 40)[:40] }

func image(v string) string { return "ghcr.io/acme/api:" + sha(v)[:8] }

// deploy asks for a deploy (or rollback) and waits until it has ended.
func (w *world) deploy(t *testing.T, env, v string, rollback bool) deploy.Deploy {
	t.Helper()
	d := w.request(t, env, v, rollback, false)
	return w.wait(t, d.ID)
}

func (w *world) request(t testing.TB, env, v string, rollback, hotfix bool) deploy.Deploy {
	t.Helper()
	id := fmt.Sprintf("%s-%s-%s-%t", t.Name(), env, v, rollback)
	d, err := w.agent.Request(context.Background(), deployagent.Request{ID: id, InstallationID: inst, RepositoryID: w.repoID,
		Owner: owner, Repo: name, DefaultBranch: "main", Env: w.env(t, env), SHA: sha(v), Ref: "main", Actor: "max",
		Rollback: rollback, Hotfix: hotfix, Proposed: "rolling"})
	if err != nil {
		t.Fatalf("request %s: %v", id, err)
	}
	return d
}

func (w *world) wait(t *testing.T, id string) deploy.Deploy {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		d, err := w.db.GetDeploy(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Terminal() {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("deploy %s did not end: %s, step %d: %s", id, d.Status, d.Step, d.Message)
		}
	}
}

// expectServing waits until the ready pods a selector picks run want
// (old pods take a moment to go), and fails the test when they never do.
func (w *world) expectServing(t *testing.T, when, selector string, want map[string]int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		imgs := kubetest.Images(t, w.cs, w.ns, selector)
		if maps.Equal(imgs, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: serving %v, want %v", when, imgs, want)
		}
	}
}

func (w *world) githubStates(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, d := range w.sim.Deployments(repo) {
		var states []string
		for _, s := range d.Statuses {
			states = append(states, s.State)
		}
		out = append(out, d.Environment+":"+strings.Join(states, ","))
	}
	return out
}

func succeeded(t *testing.T, d deploy.Deploy) {
	t.Helper()
	if d.Status != deploy.Succeeded {
		t.Fatalf("deploy %s %s: %s", d.ID, d.Status, d.Message)
	}
}

const rollingPolicy = `version: 1
environments:
  staging:
    namespace: NS
    needs_human: false
    deployments: [{name: api, container: app}]
    image: "ghcr.io/acme/api:{{ .ShortSHA }}"
    strategies: [rolling, hotfix]
    progress_deadline: 60s
`

// TestDeploy_Rolling: v1, then v2, then a rollback to v1 — every pod
// serving the expected image each time, GitHub showing each deployment.
func TestDeploy_Rolling(t *testing.T) {
	w := setup(t, rollingPolicy)
	succeeded(t, w.deploy(t, "staging", "1", false))
	w.expectServing(t, "after v1", "app=api", map[string]int{image("1"): 3})
	v2 := w.deploy(t, "staging", "2", false)
	succeeded(t, v2)
	if v2.Strategy != "rolling" {
		t.Fatalf("strategy %s", v2.Strategy)
	}
	w.expectServing(t, "after v2", "app=api", map[string]int{image("2"): 3})
	back := w.deploy(t, "staging", "2", true)
	succeeded(t, back)
	w.expectServing(t, "after the rollback", "app=api", map[string]int{image("1"): 3})
	rs, err := w.cs.AppsV1().ReplicaSets(w.ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=api"})
	if err != nil || len(rs.Items) != 3 {
		t.Fatalf("replica sets: %d, %v", len(rs.Items), err)
	}
	want := []string{"staging:in_progress,success", "staging:in_progress,success", "staging:in_progress,success"}
	if got := w.githubStates(t); !slices.Equal(got, want) {
		t.Fatalf("GitHub deployments %v", got)
	}
}

// TestDeploy_Hotfix: every pod replaced at once (maxSurge 100%), recorded
// as a hotfix; refused where the policy does not allow it.
func TestDeploy_Hotfix(t *testing.T) {
	w := setup(t, rollingPolicy)
	d := w.wait(t, w.request(t, "staging", "3", false, true).ID)
	succeeded(t, d)
	dep, err := w.cs.AppsV1().Deployments(w.ns).Get(context.Background(), "api", metav1.GetOptions{})
	if err != nil || d.Strategy != "hotfix" || dep.Spec.Strategy.RollingUpdate.MaxSurge.String() != "100%" {
		t.Fatalf("hotfix: %s, %+v, %v", d.Strategy, dep.Spec.Strategy, err)
	}
	w.expectServing(t, "after the hotfix", "app=api", map[string]int{image("3"): 3})
	succeeded(t, w.deploy(t, "staging", "5", false))
	dep, err = w.cs.AppsV1().Deployments(w.ns).Get(context.Background(), "api", metav1.GetOptions{})
	if err != nil || dep.Spec.Strategy.RollingUpdate.MaxSurge.String() != "25%" {
		t.Fatalf("the hotfix's surge outlived it: %+v (%v)", dep.Spec.Strategy, err)
	}
	w.sim.SetFile(repo, "main", policy.Path, strings.ReplaceAll(strings.ReplaceAll(rollingPolicy, ", hotfix", ""), "NS", w.ns))
	_, err = w.agent.Request(context.Background(), deployagent.Request{ID: "refused", InstallationID: inst, RepositoryID: w.repoID,
		Owner: owner, Repo: name, DefaultBranch: "main", Env: w.env(t, "staging"), SHA: sha("4"), Actor: "max", Hotfix: true})
	if err == nil || !strings.Contains(err.Error(), "hotfix deploys are not allowed in staging") {
		t.Fatalf("hotfix where not allowed: %v", err)
	}
}

const canaryPolicy = `version: 1
environments:
  production:
    namespace: NS
    needs_human: false
    deployments: [{name: api}]
    image: "ghcr.io/acme/api:{{ .ShortSHA }}"
    strategy: canary
    canary: {steps: [5, 25, 100], pause: 1s}
    progress_deadline: 60s
`

// TestDeploy_Canary: a canary Deployment beside the stable one at 5% then
// 25% (at least one pod), pausing between; at 100% the stable Deployment
// runs v2 and the canary is retired. Then a rollback ends on v1.
func TestDeploy_Canary(t *testing.T) {
	w := setup(t, canaryPolicy)
	succeeded(t, w.deploy(t, "production", "1", false))
	d := w.request(t, "production", "2", false, false)
	sawCanary := false
	for deadline := time.Now().Add(60 * time.Second); !sawCanary && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		got := kubetest.Images(t, w.cs, w.ns, "app=api,ferry.dev/track=canary")
		sawCanary = got[image("2")] >= 1
	}
	if !sawCanary {
		t.Fatal("no canary pod ever ran v2")
	}
	succeeded(t, w.wait(t, d.ID))
	w.expectServing(t, "after v2", "app=api", map[string]int{image("2"): 3})
	canary, err := w.cs.AppsV1().Deployments(w.ns).Get(context.Background(), "api-canary", metav1.GetOptions{})
	if err != nil || *canary.Spec.Replicas != 0 {
		t.Fatalf("canary after 100%%: %v", err)
	}
	steps, err := w.db.DeploySteps(context.Background(), d.ID)
	if err != nil || len(steps) != 9 {
		t.Fatalf("steps %d, %v", len(steps), err)
	}
	succeeded(t, w.deploy(t, "production", "2", true))
	w.expectServing(t, "after the rollback", "app=api", map[string]int{image("1"): 3})
}

const blueGreenPolicy = `version: 1
environments:
  production:
    namespace: NS
    needs_human: false
    deployments: [{name: api}]
    image: "ghcr.io/acme/api:{{ .ShortSHA }}"
    service: api
    strategy: blue-green
    progress_deadline: 60s
`

func (w *world) selector(t *testing.T) string {
	t.Helper()
	svc, err := w.cs.CoreV1().Services(w.ns).Get(context.Background(), "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for k, v := range svc.Spec.Selector {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// TestDeploy_BlueGreen: the new colour at full size, then the Service
// switches to it; the old colour stays for a fast rollback, which switches
// back.
func TestDeploy_BlueGreen(t *testing.T) {
	w := setup(t, blueGreenPolicy)
	succeeded(t, w.deploy(t, "production", "1", false))
	if sel := w.selector(t); sel != "app=api,ferry.dev/track=green" {
		t.Fatalf("selector after v1: %s", sel)
	}
	succeeded(t, w.deploy(t, "production", "2", false))
	if sel := w.selector(t); sel != "app=api,ferry.dev/track=blue" {
		t.Fatalf("selector after v2: %s", sel)
	}
	w.expectServing(t, "served after v2", w.selector(t), map[string]int{image("2"): 3})
	w.expectServing(t, "the old colour was not kept", "app=api,ferry.dev/track=green", map[string]int{image("1"): 3})
	succeeded(t, w.deploy(t, "production", "2", true))
	if sel := w.selector(t); sel != "app=api,ferry.dev/track=green" {
		t.Fatalf("selector after the rollback: %s", sel)
	}
	w.expectServing(t, "served after the rollback", w.selector(t), map[string]int{image("1"): 3})
	// The policy now allows rolling too, but the Service selects a colour:
	// only blue-green changes what it serves.
	w.sim.SetFile(repo, "main", policy.Path, strings.ReplaceAll(strings.ReplaceAll(blueGreenPolicy, "strategy: blue-green", "strategies: [rolling, blue-green]"), "NS", w.ns))
	d4 := w.deploy(t, "production", "4", false)
	succeeded(t, d4)
	if d4.Strategy != "blue-green" {
		t.Fatalf("strategy %s", d4.Strategy)
	}
	w.expectServing(t, "after a rolling request", w.selector(t), map[string]int{image("4"): 3})
}

const twoEnvPolicy = `version: 1
environments:
  staging:
    namespace: NS
    needs_human: false
    deployments: [{name: api}]
    image: "ghcr.io/acme/api:{{ .ShortSHA }}"
    strategy: canary
    canary: {steps: [50, 100], pause: 2s}
    progress_deadline: 60s
  preview:
    namespace: NS
    needs_human: false
    deployments: [{name: web}]
    image: "ghcr.io/acme/web:{{ .ShortSHA }}"
    strategy: canary
    canary: {steps: [50, 100], pause: 2s}
    progress_deadline: 60s
`

// TestDeploy_OnePerEnvironment: two deploys to one environment never run
// at once — the second waits for the first; another environment's deploy
// runs beside them.
func TestDeploy_OnePerEnvironment(t *testing.T) {
	w := setup(t, twoEnvPolicy)
	kubetest.App(t, w.cs, w.ns, "web", "ghcr.io/acme/web:v0", 2)
	a := w.request(t, "staging", "1", false, false)
	b := w.request(t, "staging", "2", false, false)
	c := w.request(t, "preview", "3", false, false)
	overlapOther := false
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		da, _ := w.db.GetDeploy(context.Background(), a.ID)
		db, _ := w.db.GetDeploy(context.Background(), b.ID)
		dc, _ := w.db.GetDeploy(context.Background(), c.ID)
		if da.Status == deploy.Running && db.Status == deploy.Running {
			t.Fatal("two deploys ran in staging at once")
		}
		if dc.Status == deploy.Running && (da.Status == deploy.Running || db.Status == deploy.Running) {
			overlapOther = true
		}
		if da.Terminal() && db.Terminal() && dc.Terminal() {
			break
		}
	}
	for _, id := range []string{a.ID, b.ID, c.ID} {
		succeeded(t, w.wait(t, id))
	}
	if !overlapOther {
		t.Fatal("the other environment's deploy never ran beside staging's")
	}
	w.expectServing(t, "staging ends on the later request", "app=api", map[string]int{image("2"): 3})
}

// TestDeploy_NeverReady: pods of the new version never become Ready (the
// test cluster's kwok keeps images tagged never-ready pending): the deploy
// fails at the progress deadline, GitHub says so, and the previous version
// still serves.
func TestDeploy_NeverReady(t *testing.T) {
	w := setup(t, `version: 1
environments:
  staging:
    namespace: NS
    needs_human: false
    deployments: [{name: api}]
    image: "ghcr.io/acme/api:{{ if eq .ShortSHA \"bbbbbbbb\" }}never-ready{{ else }}{{ .ShortSHA }}{{ end }}"
    strategy: rolling
    progress_deadline: 3s
`)
	succeeded(t, w.deploy(t, "staging", "1", false))
	d := w.deploy(t, "staging", "b", false)
	if d.Status != deploy.Failed || !strings.Contains(d.Message, "updated and available after") {
		t.Fatalf("deploy %s: %s", d.Status, d.Message)
	}
	w.expectServing(t, "the previous version stopped serving", "app=api", map[string]int{image("1"): 3})
	want := []string{"staging:in_progress,success", "staging:in_progress,failure"}
	if got := w.githubStates(t); !slices.Equal(got, want) {
		t.Fatalf("GitHub deployments %v", got)
	}
	// A rollback after the failure restores what ran before it, v1: the
	// Deployment's spec no longer names the image that never came up.
	succeeded(t, w.deploy(t, "staging", "b", true))
	dep, err := w.cs.AppsV1().Deployments(w.ns).Get(context.Background(), "api", metav1.GetOptions{})
	if err != nil || dep.Spec.Template.Spec.Containers[0].Image != image("1") {
		t.Fatalf("after the rollback the spec says %v (%v)", dep.Spec.Template.Spec.Containers, err)
	}
	w.expectServing(t, "after the rollback", "app=api", map[string]int{image("1"): 3})
}

// TestDeploy_FailedCanaryRetired: a canary whose pods never become Ready
// fails the deploy, and the canary is scaled to zero so it takes no
// traffic; the stable version serves on.
func TestDeploy_FailedCanaryRetired(t *testing.T) {
	w := setup(t, `version: 1
environments:
  production:
    namespace: NS
    needs_human: false
    deployments: [{name: api}]
    image: "ghcr.io/acme/api:{{ if eq .ShortSHA \"bbbbbbbb\" }}never-ready{{ else }}{{ .ShortSHA }}{{ end }}"
    strategy: canary
    canary: {steps: [50, 100], pause: 1s}
    progress_deadline: 3s
`)
	succeeded(t, w.deploy(t, "production", "1", false))
	if d := w.deploy(t, "production", "b", false); d.Status != deploy.Failed {
		t.Fatalf("deploy %s: %s", d.Status, d.Message)
	}
	c, err := w.cs.AppsV1().Deployments(w.ns).Get(context.Background(), "api-canary", metav1.GetOptions{})
	if err != nil || *c.Spec.Replicas != 0 {
		t.Fatalf("the failed canary still runs: %v", err)
	}
	w.expectServing(t, "after the failed canary", "app=api", map[string]int{image("1"): 3})
}

// lostID fails recording the first real GitHub deployment id, as if ferry
// died right after GitHub answered.
type lostID struct {
	deployagent.Progress
	failed bool
}

func (l *lostID) SetDeployGitHub(ctx context.Context, id string, githubID int64) error {
	if githubID > 0 && !l.failed {
		l.failed = true
		return fmt.Errorf("crash before recording deployment %d", githubID)
	}
	return l.Progress.SetDeployGitHub(ctx, id, githubID)
}

// TestDeploy_GitHubDeploymentOnce: the GitHub deployment's create is
// recorded before it is sent; a retry after losing its id finds it by its
// payload rather than creating a second.
func TestDeploy_GitHubDeploymentOnce(t *testing.T) {
	w := setup(t, rollingPolicy, func(s deployagent.Progress) deployagent.Progress { return &lostID{Progress: s} })
	succeeded(t, w.deploy(t, "staging", "1", false))
	if got := w.githubStates(t); !slices.Equal(got, []string{"staging:in_progress,success"}) {
		t.Fatalf("GitHub deployments %v", got)
	}
}

// TestDeploy_PausedHolds: a pause holds a deploy before it acts (it stays
// queued, saying why); on resume it goes ahead. A freeze window does the
// same.
func TestDeploy_PausedHolds(t *testing.T) {
	w := setup(t, rollingPolicy)
	ctx := context.Background()
	pause := audit.Decision{ID: "p1", At: time.Now(), RepositoryID: w.repoID, Repository: repo, Subject: "repository",
		Kind: audit.KindPause, Actor: "max", Output: "paused"}
	if err := w.db.SetPause(ctx, w.repoID, control.Pause{Environment: control.AllEnvironments, By: "max", Reason: "incident", At: time.Now()}, pause, 0); err != nil {
		t.Fatal(err)
	}
	d := w.request(t, "staging", "1", false, false)
	waitUntil(t, "the deploy to say it is paused", func() bool {
		got, _ := w.db.GetDeploy(ctx, d.ID)
		return got.Status == deploy.Queued && got.Message == "paused by @max: incident"
	})
	if _, err := w.db.Resume(ctx, w.repoID, control.AllEnvironments, audit.Decision{ID: "r1", At: time.Now(), RepositoryID: w.repoID,
		Repository: repo, Subject: "repository", Kind: audit.KindResume, Actor: "max", Output: "resumed"}, 0); err != nil {
		t.Fatal(err)
	}
	succeeded(t, w.wait(t, d.ID))

	frozen := strings.Replace(rollingPolicy, "    progress_deadline: 60s\n",
		"    progress_deadline: 60s\n    freeze: [{from: \"2000-01-01T00:00:00Z\", to: \"2100-01-01T00:00:00Z\", reason: holidays}]\n", 1)
	w.sim.SetFile(repo, "main", policy.Path, strings.ReplaceAll(frozen, "NS", w.ns))
	d2 := w.request(t, "staging", "2", false, false)
	waitUntil(t, "the deploy to say it is frozen", func() bool {
		got, _ := w.db.GetDeploy(ctx, d2.ID)
		return got.Status == deploy.Queued && strings.HasPrefix(got.Message, "frozen until 2100-01-01T00:00:00Z: holidays")
	})
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
