package deployagent_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/deployagent"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/jobs"
	"github.com/ferry-ci/ferry/internal/kube"
	"github.com/ferry-ci/ferry/internal/kubetest"
	"github.com/ferry-ci/ferry/internal/policy"
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
	cs     kubernetes.Interface
	ns     string
	repoID int64
}

// setup: a namespace on the real control plane with Deployment and Service
// "api" (3 pods of v0), the simulator with the policy on main, and ferry's
// agent working its jobs through a real queue on SQLite.
func setup(t *testing.T, envPolicy string) *world {
	t.Helper()
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	kubetest.App(t, cs, ns, "api", image("0"), 3)
	sim := githubsim.New(t, githubsim.Config{})
	sim.AddInstallation(inst, owner)
	repoID := sim.AddRepo(inst, repo)
	sim.SetFile(repo, "main", policy.Path, strings.ReplaceAll(envPolicy, "NS", ns))
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
	agent := deployagent.New(deployagent.Config{Logger: quiet, Poll: 200 * time.Millisecond},
		func(int64) deployagent.GitHub { return gh.Installation(inst) },
		func(policy.Environment) (deployagent.Kube, error) { return cluster, nil }, db,
		func() deployagent.Enqueuer { return q })
	q, err = jobs.New(db, jobs.Config{Workers: 4, Logger: quiet, Steps: map[string]jobs.StepFunc{deployagent.StepName: agent.Step}},
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
	return &world{sim: sim, db: db, agent: agent, cs: cs, ns: ns, repoID: repoID}
}

func sha(v string) string { return strings.Repeat(v, 40)[:40] }

func image(v string) string { return "ghcr.io/acme/api:" + sha(v)[:8] }

// deploy asks for a deploy (or rollback) and waits until it has ended.
func (w *world) deploy(t *testing.T, env, v string, rollback bool) store.Deploy {
	t.Helper()
	d := w.request(t, env, v, rollback, false)
	return w.wait(t, d.ID)
}

func (w *world) request(t *testing.T, env, v string, rollback, hotfix bool) store.Deploy {
	t.Helper()
	id := fmt.Sprintf("%s-%s-%s-%t", t.Name(), env, v, rollback)
	d, err := w.agent.Request(context.Background(), deployagent.Request{ID: id, InstallationID: inst, RepositoryID: w.repoID,
		Owner: owner, Repo: name, DefaultBranch: "main", Environment: env, SHA: sha(v), Ref: "main", Actor: "max",
		Rollback: rollback, Hotfix: hotfix, Proposed: "rolling"})
	if err != nil {
		t.Fatalf("request %s: %v", id, err)
	}
	return d
}

func (w *world) wait(t *testing.T, id string) store.Deploy {
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

func (w *world) serving(t *testing.T, selector string) map[string]int {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		imgs := kubetest.Images(t, w.cs, w.ns, selector)
		if len(imgs) == 1 || time.Now().After(deadline) { // old pods are gone
			return imgs
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

func succeeded(t *testing.T, d store.Deploy) {
	t.Helper()
	if d.Status != store.DeploySucceeded {
		t.Fatalf("deploy %s %s: %s", d.ID, d.Status, d.Message)
	}
}

const rollingPolicy = `version: 1
environments:
  staging:
    namespace: NS
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
	if got := w.serving(t, "app=api"); !maps.Equal(got, map[string]int{image("1"): 3}) {
		t.Fatalf("after v1: %v", got)
	}
	v2 := w.deploy(t, "staging", "2", false)
	succeeded(t, v2)
	if v2.Strategy != "rolling" {
		t.Fatalf("strategy %s", v2.Strategy)
	}
	if got := w.serving(t, "app=api"); !maps.Equal(got, map[string]int{image("2"): 3}) {
		t.Fatalf("after v2: %v", got)
	}
	back := w.deploy(t, "staging", "2", true)
	succeeded(t, back)
	if got := w.serving(t, "app=api"); !maps.Equal(got, map[string]int{image("1"): 3}) {
		t.Fatalf("after the rollback: %v", got)
	}
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
	if got := w.serving(t, "app=api"); !maps.Equal(got, map[string]int{image("3"): 3}) {
		t.Fatalf("after the hotfix: %v", got)
	}
	w.sim.SetFile(repo, "main", policy.Path, strings.ReplaceAll(strings.ReplaceAll(rollingPolicy, ", hotfix", ""), "NS", w.ns))
	_, err = w.agent.Request(context.Background(), deployagent.Request{ID: "refused", InstallationID: inst, RepositoryID: w.repoID,
		Owner: owner, Repo: name, DefaultBranch: "main", Environment: "staging", SHA: sha("4"), Actor: "max", Hotfix: true})
	if err == nil || !strings.Contains(err.Error(), "hotfix deploys are not allowed in staging") {
		t.Fatalf("hotfix where not allowed: %v", err)
	}
}
