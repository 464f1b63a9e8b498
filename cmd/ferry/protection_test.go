package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/store"
)

// gated starts ferry as the simulator's App with a policy on main, and
// returns the database and the repository's id.
func gated(t *testing.T, pol string) (*githubsim.Sim, *store.DB, int64) {
	t.Helper()
	sim, repoID := newSim(t)
	sim.SetFile("acme/api", "main", ".github/ferry.yml", "version: 1\nrequired_checks: [ci/test]\n"+pol)
	dsn := dbtest.SQLiteURL(t)
	startWithSim(t, sim, "--database="+dsn)
	return sim, dbtest.Open(t, dsn), repoID
}

// assessedPush lands a docs-only commit on main and waits for ferry's
// assessment of it: a low-risk commit.
func assessedPush(t *testing.T, sim *githubsim.Sim, sha string) {
	t.Helper()
	before := sim.Ref("acme/api", "heads/main")
	sim.AddComparison("acme/api", before, sha, docsChange, nil)
	sim.SetFile("acme/api", before, ".github/ferry.yml", "version: 1\n")
	sim.Push("acme/api", "main", before, sha, []githubsim.PushCommit{{SHA: sha, Message: "Docs", Author: "alice", Modified: []string{"docs/guide.md"}}})
	waitFor(t, "the push assessed", func() bool { return len(checkRunsOn(sim, "acme/api", sha)) == 1 })
	sim.SetStatus("acme/api", sha, "ci/test", "success")
}

func gateOf(sim *githubsim.Sim, run int64) githubsim.GateRun {
	for _, g := range sim.Gates("acme/api") {
		if g.RunID == run {
			return g
		}
	}
	return githubsim.GateRun{}
}

func waitAnswer(t *testing.T, sim *githubsim.Sim, run int64, want string) githubsim.GateRun {
	t.Helper()
	waitFor(t, fmt.Sprintf("run %d %s", run, want), func() bool { return gateOf(sim, run).State != "" })
	g := gateOf(sim, run)
	if g.State != want || g.Decisions != 1 {
		t.Fatalf("run %d: %+v, want %s once", run, g, want)
	}
	return g
}

// TestProtectionRule_ApprovesLowRisk: a low-risk commit ferry assessed
// deploys to an environment that needs no human: approved at once, with a
// line that says why.
func TestProtectionRule_ApprovesLowRisk(t *testing.T) {
	sim, _, _ := gated(t, "environments:\n  staging: {needs_human: false}\n")
	sha := strings.Repeat("a", 40)
	assessedPush(t, sim, sha)
	sim.RequestGate("acme/api", "staging", sha, 101)
	g := waitAnswer(t, sim, 101, "approved")
	if !strings.Contains(g.Comments[len(g.Comments)-1], "approved by ferry: no human needed") {
		t.Fatalf("comments %q", g.Comments)
	}
}

// TestProtectionRule_FreezeThenApprove: asked during a freeze, ferry says
// on the run why it waits, and approves when the window ends.
func TestProtectionRule_FreezeThenApprove(t *testing.T) {
	end := time.Now().Add(3 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	sim, _, _ := gated(t, fmt.Sprintf("environments:\n  production:\n    needs_human: false\n    freeze: [{from: %s, to: %s, reason: release week}]\n",
		time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), end.Format(time.RFC3339)))
	sha := strings.Repeat("b", 40)
	assessedPush(t, sim, sha)
	sim.RequestGate("acme/api", "production", sha, 102)
	waitFor(t, "the freeze said", func() bool { return len(gateOf(sim, 102).Comments) > 0 })
	if g := gateOf(sim, 102); g.State != "" || !strings.Contains(g.Comments[0], "waiting: frozen until") || !strings.Contains(g.Comments[0], "release week") {
		t.Fatalf("during the freeze: %+v", g)
	}
	waitAnswer(t, sim, 102, "approved")
	if time.Now().Before(end) {
		t.Fatal("approved before the freeze ended")
	}
}

// TestProtectionRule_WaitsForApproval: production needs a human; ferry
// waits, and approves once someone who neither wrote nor pushed the change
// approves it.
func TestProtectionRule_WaitsForApproval(t *testing.T) {
	sim, _, _ := gated(t, "environments:\n  production: {needs_human: true}\n")
	sim.SetPermission("acme/api", "carol", "write")
	sha := strings.Repeat("c", 40)
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "Docs", User: "alice", HeadSHA: sha, Files: docsChange})
	sim.OpenPullRequest("acme/api", n)
	waitFor(t, "the assessment", func() bool { return len(checkRunsOn(sim, "acme/api", sha)) == 1 })
	sim.SetStatus("acme/api", sha, "ci/test", "success")
	sim.RequestGate("acme/api", "production", sha, 103)
	waitFor(t, "the wait said", func() bool { return len(gateOf(sim, 103).Comments) > 0 })
	if g := gateOf(sim, 103); g.State != "" || !strings.Contains(g.Comments[0], "a human must approve") {
		t.Fatalf("before the approval: %+v", g)
	}
	if reply, ok := command(t, sim, "acme/api", n, "carol", "/ferry approve"); !ok {
		t.Fatalf("approval refused:\n%s", reply)
	}
	g := waitAnswer(t, sim, 103, "approved")
	if !strings.Contains(g.Comments[len(g.Comments)-1], "approved by carol") {
		t.Fatalf("comments %q", g.Comments)
	}
}

// TestProtectionRule_RejectWhilePaused: while ferry is paused, nothing it
// gates goes out.
func TestProtectionRule_RejectWhilePaused(t *testing.T) {
	sim, _, _ := gated(t, "environments:\n  staging: {needs_human: false}\n")
	sim.SetPermission("acme/api", "max", "maintain")
	sha := strings.Repeat("d", 40)
	assessedPush(t, sim, sha)
	issue := sim.AddIssue("acme/api", "Incident")
	if reply, ok := command(t, sim, "acme/api", issue, "max", "/ferry pause all incident 42"); !ok {
		t.Fatalf("pause refused:\n%s", reply)
	}
	sim.RequestGate("acme/api", "staging", sha, 104)
	if g := waitAnswer(t, sim, 104, "rejected"); !strings.Contains(g.Comments[0], "paused (by max): incident 42") {
		t.Fatalf("comments %q", g.Comments)
	}
}

// TestProtectionRule_RejectRolledBackElsewhere: a commit ferry rolled back
// in staging because its metrics condemned it does not go to production.
func TestProtectionRule_RejectRolledBackElsewhere(t *testing.T) {
	sim, db, repoID := gated(t, "environments:\n  production: {needs_human: false}\n")
	sha := strings.Repeat("e", 40)
	assessedPush(t, sim, sha)
	ctx := context.Background()
	d := deploy.Deploy{ID: "d-staging", RepositoryID: repoID, Repository: "acme/api", InstallationID: 31, Environment: "staging",
		Kind: deploy.KindDeploy, SHA: sha, Actor: "ferry", Strategy: policy.Canary, CreatedAt: time.Now()}
	if _, err := db.CreateDeploy(ctx, d, func(*sql.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishDeploy(ctx, d.ID, deploy.Failed, deploy.EndRolledBackAuto, "rolled back", time.Now()); err != nil {
		t.Fatal(err)
	}
	sim.RequestGate("acme/api", "production", sha, 105)
	if g := waitAnswer(t, sim, 105, "rejected"); !strings.Contains(g.Comments[0], "back in staging") {
		t.Fatalf("comments %q", g.Comments)
	}
}

// TestProtectionRule_AnswersOnceAfterCrash: GitHub takes ferry's answer but
// the reply is lost; the retried job sends the recorded answer, GitHub
// says it has one, and the run got exactly one.
func TestProtectionRule_AnswersOnceAfterCrash(t *testing.T) {
	sim, db, _ := gated(t, "environments:\n  staging: {needs_human: false}\n")
	sha := strings.Repeat("f", 40)
	assessedPush(t, sim, sha)
	sim.Inject(githubsim.Fault{Method: http.MethodPost, Path: `/actions/runs/106/deployment_protection_rule$`, Status: http.StatusBadGateway, Applied: true})
	guid, _ := sim.RequestGate("acme/api", "staging", sha, 106)
	waitFor(t, "the answer recorded as sent", func() bool {
		g, err := db.GetGate(context.Background(), guid)
		return err == nil && g.State == deploy.GateAnswered
	})
	if g := gateOf(sim, 106); g.State != "approved" || g.Decisions != 1 || sim.Count("actions/review-custom-gates-for-run", 0) != 2 {
		t.Fatalf("run %+v after %d reviews", g, sim.Count("actions/review-custom-gates-for-run", 0))
	}
}

// TestAttack_ProtectionRuleCallback: a payload's callback URL is never
// called: one naming another host gets its answer through ferry's own API
// client for this repository's run, and one naming another repository's
// run gets none (there is no run of this repository to answer).
func TestAttack_ProtectionRuleCallback(t *testing.T) {
	sim, _, _ := gated(t, "environments:\n  staging: {needs_human: false}\n")
	var evil atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { evil.Add(1) }))
	t.Cleanup(srv.Close)
	sha := strings.Repeat("1", 40)
	assessedPush(t, sim, sha)
	sim.RequestGate("acme/api", "staging", sha, 107) // the run exists on "GitHub"
	waitAnswer(t, sim, 107, "approved")
	for _, callback := range []string{
		srv.URL + "/repos/acme/api/actions/runs/108/deployment_protection_rule",
		"https://api.github.com/repos/mallory/x/actions/runs/107/deployment_protection_rule",
		srv.URL + "/steal?token=1",
	} {
		if _, status := sim.SendWebhook("deployment_protection_rule", sim.GatePayload("acme/api", "staging", sha, callback)); status != http.StatusAccepted {
			t.Fatalf("%s answered %d", callback, status)
		}
	}
	// Run 108 is unknown to GitHub: ferry's answer for it is refused (404).
	waitFor(t, "the answer for run 108", func() bool { return sim.Count("actions/review-custom-gates-for-run", 0) == 2 })
	time.Sleep(500 * time.Millisecond)
	if evil.Load() != 0 {
		t.Fatalf("ferry called a payload's URL %d times", evil.Load())
	}
	if n := sim.Count("actions/review-custom-gates-for-run", 0); n != 2 { // run 107, and 108 (unknown to GitHub: 404)
		t.Fatalf("%d reviews sent", n)
	}
}
