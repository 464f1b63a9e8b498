package deployagent_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/control"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/deployagent"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/promtest"
)

// TestDeploy_GateAtStart: a deploy approved when it was asked for waits
// (here: ferry is paused); meanwhile a push makes another commit the pull
// request's head, voiding the approval. When the deploy is to start, the
// gate runs again: it ends without touching the cluster, and the pull
// request is told why.
func TestDeploy_GateAtStart(t *testing.T) {
	w := setup(t, strings.ReplaceAll(rollingPolicy, "    needs_human: false\n", ""))
	ctx := context.Background()
	n := w.sim.AddPullRequest(repo, githubsim.PullRequest{Title: "Change", User: "alice", HeadSHA: sha("3")})
	if err := w.db.RecordPush(ctx, w.repoID, n, sha("3"), "alice", time.Now()); err != nil {
		t.Fatal(err)
	}
	approve := audit.Decision{ID: "approve-1", At: time.Now(), RepositoryID: w.repoID, Repository: repo, Kind: audit.KindApproval, Actor: "rev"}
	if err := w.db.Approve(ctx, w.repoID, n, control.Approval{By: "rev", HeadSHA: sha("3"), At: time.Now()}, approve); err != nil {
		t.Fatal(err)
	}
	pause := audit.Decision{ID: "pause-1", At: time.Now(), RepositoryID: w.repoID, Repository: repo, Kind: audit.KindPause, Actor: "max"}
	if err := w.db.SetPause(ctx, w.repoID, control.Pause{Environment: control.AllEnvironments, By: "max", At: time.Now()}, pause, n); err != nil {
		t.Fatal(err)
	}
	d, err := w.agent.Request(ctx, deployagent.Request{ID: "gated", InstallationID: inst, RepositoryID: w.repoID, Owner: owner, Repo: name,
		DefaultBranch: "main", Env: w.env(t, "staging"), SHA: sha("3"), Number: n, Actor: "max", Proposed: "rolling"})
	if err != nil {
		t.Fatalf("approved deploy refused: %v", err)
	}
	waitUntil(t, "the deploy to wait for the pause", func() bool {
		got, _ := w.db.GetDeploy(ctx, d.ID)
		return got.HoldCause == deploy.HoldPaused
	})
	w.sim.SetPullRequestHead(repo, n, sha("4"), nil, nil)
	resume := audit.Decision{ID: "resume-1", At: time.Now(), RepositoryID: w.repoID, Repository: repo, Kind: audit.KindResume, Actor: "max"}
	if _, err := w.db.Resume(ctx, w.repoID, control.AllEnvironments, resume, n); err != nil {
		t.Fatal(err)
	}
	end := w.wait(t, d.ID)
	if end.Status != deploy.Failed || end.EndCause != deploy.EndGate || !strings.Contains(end.Message, "no longer the head") {
		t.Fatalf("deploy %s (%s): %s", end.Status, end.EndCause, end.Message)
	}
	c, err := w.cs.AppsV1().Deployments(w.ns).Get(ctx, "api", metav1.GetOptions{})
	if err != nil || c.Spec.Template.Spec.Containers[0].Image != image("0") || c.Generation != 1 {
		t.Fatalf("the cluster changed: %v", err)
	}
	waitUntil(t, "the pull request to be told", func() bool {
		for _, c := range w.sim.Comments(repo, n) {
			if strings.Contains(c.Body, "not started") && strings.Contains(c.Body, "no longer the head") {
				return true
			}
		}
		return false
	})
}

// TestDeploy_RollbackWithoutAllowRule: ferry deployed under the operator's
// rules; the rules are gone now (ferry restarted without them). Nothing
// new deploys, but rolling back what ferry itself deployed there stays
// possible.
func TestDeploy_RollbackWithoutAllowRule(t *testing.T) {
	w := setup(t, rollingPolicy)
	succeeded(t, w.deploy(t, "staging", "1", false))
	locked := deployagent.New(deployagent.Config{Logger: quiet, Poll: 200 * time.Millisecond}, w.deps) // no rules
	ctx := context.Background()
	_, err := locked.Request(ctx, deployagent.Request{ID: "no-rule-deploy", InstallationID: inst, RepositoryID: w.repoID, Owner: owner,
		Repo: name, DefaultBranch: "main", Env: w.env(t, "staging"), SHA: sha("2"), Actor: "max", Proposed: "rolling"})
	if _, refused := deployagent.AsRefusal(err); !refused {
		t.Fatalf("a deploy without a rule: %v", err)
	}
	rb, err := locked.Request(ctx, deployagent.Request{ID: "no-rule-rollback", InstallationID: inst, RepositoryID: w.repoID, Owner: owner,
		Repo: name, DefaultBranch: "main", Env: w.env(t, "staging"), SHA: sha("1"), Actor: "max", Rollback: true})
	if err != nil {
		t.Fatalf("rolling back ferry's own deploy was refused: %v", err)
	}
	succeeded(t, w.wait(t, rb.ID))
	w.expectServing(t, "after the rollback", "app=api", map[string]int{image("0"): 3})
}

// TestIncident_MigrationOnFirstDeploy: the first deploy through ferry —
// no earlier deploy of ferry's, and the cluster runs an image the
// environment's template cannot read a commit from ("v0"). The metrics
// condemn the canary, but ferry cannot tell which migrations lie between
// what ran and this commit: it holds and pages a human instead of rolling
// back across them; only a forced rollback lifts the hold.
func TestIncident_MigrationOnFirstDeploy(t *testing.T) {
	promtest.URL(t)
	appName := uniqueApp("first")
	app := promtest.StartApp(t, appName, 40, map[string]promtest.Behaviour{
		"stable": {Latency: 50 * time.Millisecond}, "canary": {Latency: 50 * time.Millisecond}})
	w := setup(t, strings.ReplaceAll(incidentPolicy, "APP", appName))
	ctx := context.Background()
	dep, err := w.cs.AppsV1().Deployments(w.ns).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dep.Spec.Template.Spec.Containers[0].Image = "ghcr.io/acme/api:v0" // deployed by whatever came before ferry
	if _, err := w.cs.AppsV1().Deployments(w.ns).Update(ctx, dep, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	w.expectServing(t, "before ferry", "app=api", map[string]int{"ghcr.io/acme/api:v0": 3})
	n := w.sim.AddPullRequest(repo, githubsim.PullRequest{Title: "First through ferry", HeadSHA: sha("2")})
	d, err := w.agent.Request(ctx, deployagent.Request{ID: "first", InstallationID: inst, RepositoryID: w.repoID,
		Owner: owner, Repo: name, DefaultBranch: "main", Env: w.env(t, "production"), SHA: sha("2"), Number: n, Actor: "max"})
	if err != nil {
		t.Fatal(err)
	}
	w.waitCanary(t, "2")
	app.Set("canary", promtest.Behaviour{ErrorRate: 0.5, Latency: 50 * time.Millisecond})
	waitUntil(t, "the hold", func() bool {
		got, _ := w.db.GetDeploy(ctx, d.ID)
		return got.HoldCause == deploy.HoldMigrations && got.NeedsForce && strings.Contains(got.Message, "cannot tell which migrations")
	})
	if _, err := w.agent.RollbackRunning(ctx, w.repoID, "production", "max", false); err == nil {
		t.Fatal("rolled back across unknown migrations without --force")
	}
	if _, err := w.agent.RollbackRunning(ctx, w.repoID, "production", "max", true); err != nil {
		t.Fatal(err)
	}
	if end := w.wait(t, d.ID); end.EndCause != deploy.EndRolledBackRequest {
		t.Fatalf("deploy %s (%s): %s", end.Status, end.EndCause, end.Message)
	}
}
