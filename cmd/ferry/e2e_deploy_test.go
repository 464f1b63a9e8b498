package main

import (
	"context"
	"maps"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/kubetest"
)

// TestDeploy_ResumeAfterCrash: a maintainer's /ferry deploy starts a
// canary; ferry is killed (SIGKILL) while the canary holds between steps;
// restarted, it finishes the deploy exactly once: one GitHub deployment,
// every step sent once, the stable Deployment updated once.
func TestDeploy_ResumeAfterCrash(t *testing.T) {
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	kubetest.App(t, cs, ns, "api", "ghcr.io/acme/api:v0", 4)

	sim, repoID := newSim(t)
	sim.SetPermission("acme/api", "max", "maintain")
	sim.SetFile("acme/api", "main", ".github/ferry.yml", `version: 1
environments:
  production:
    namespace: `+ns+`
    needs_human: false
    deployments: [{name: api}]
    image: "ghcr.io/acme/api:{{ .ShortSHA }}"
    strategy: canary
    canary: {steps: [25, 50, 100], pause: 3s}
    progress_deadline: 60s
`)
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "Ship it", Files: riskyFiles})
	head := sim.PullRequests("acme/api")[0].HeadSHA
	dsn := dbtest.SQLiteURL(t)
	args := append(appArgs(t, sim), "--database="+dsn, "--job-timeout=4s", "--kubeconfig="+kubetest.Kubeconfig(t), "--deploy-allow=*=*")
	s := startServe(t, args...)
	sim.SetWebhookURL(s.url + "/webhook")
	sim.Comment("acme/api", n, "max", "/ferry deploy production")

	db := dbtest.Open(t, dsn)
	waitFor(t, "the canary to hold at 25%", func() bool {
		d, _ := db.Deploys(context.Background(), repoID, "production")
		return len(d) == 1 && d[0].Step == 2 // steps 0–1 done: the canary runs; step 2 is the pause
	})
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.done
	s.done <- nil

	s2 := startServe(t, args...)
	sim.SetWebhookURL(s2.url + "/webhook")
	// If the kill caught the job running (not snoozed), River's rescuer
	// makes it available again on its own schedule: allow for that.
	var d deploy.Deploy
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		ds, err := db.Deploys(context.Background(), repoID, "production")
		if err == nil && len(ds) == 1 && ds[0].Terminal() {
			d = ds[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deploy did not finish after the restart: %+v", ds)
		}
	}
	if d.Status != deploy.Succeeded || d.Strategy != "canary" {
		t.Fatalf("deploy %s (%s): %s", d.Status, d.Strategy, d.Message)
	}
	if deps := sim.Deployments("acme/api"); len(deps) != 1 {
		t.Fatalf("%d GitHub deployments, want 1", len(deps))
	}
	steps, err := db.DeploySteps(context.Background(), d.ID)
	if err != nil || len(steps) != 9 {
		t.Fatalf("steps %d, %v", len(steps), err)
	}
	for _, st := range steps {
		if st.Applies != 1 || st.DoneAt.IsZero() {
			t.Fatalf("step %d (%s) sent %d times, done %v", st.N, st.Note, st.Applies, st.DoneAt)
		}
	}
	api, err := cs.AppsV1().Deployments(ns).Get(context.Background(), "api", metav1.GetOptions{})
	if err != nil || api.Generation != 2 {
		t.Fatalf("api generation %d (created, then one image update), %v", api.Generation, err)
	}
	waitFor(t, "the deploy comment to say it succeeded", func() bool {
		for _, c := range sim.Comments("acme/api", n) {
			if strings.Contains(c.Body, "<!-- ferry:deploy-production -->") && strings.Contains(c.Body, "— succeeded") &&
				strings.Count(c.Body, "| done |") == 9 {
				return true
			}
		}
		return false
	})
	want := map[string]int{"ghcr.io/acme/api:" + head[:8]: 4}
	waitFor(t, "every pod to serve the new version", func() bool { return maps.Equal(kubetest.Images(t, cs, ns, "app=api"), want) })
}

// TestDeploy_AutoOnMerge: when the default branch's checks pass (a real
// check_suite completed payload), ferry deploys that commit to the
// environments the policy deploys automatically — once, however many
// suites report; failed checks, other branches and a commit that is not the
// branch's tip (a fork's "main") deploy nothing.
func TestDeploy_AutoOnMerge(t *testing.T) {
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	kubetest.App(t, cs, ns, "api", "ghcr.io/acme/api:v0", 2)
	sim, repoID := newSim(t)
	dsn := dbtest.SQLiteURL(t)
	startWithSim(t, sim, "--database="+dsn, "--kubeconfig="+kubetest.Kubeconfig(t), "--deploy-allow=*=*")
	good, bad, fork := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	before := sim.Ref("acme/api", "heads/main")
	sim.AddComparison("acme/api", before, good, docsChange, nil)
	sim.SetBranch("acme/api", "main", good)
	for _, sha := range []string{"main"} {
		sim.SetFile("acme/api", sha, ".github/ferry.yml", "version: 1\nenvironments:\n  staging:\n    namespace: "+ns+
			"\n    deployments: [{name: api}]\n    image: \"ghcr.io/acme/api:{{ .ShortSHA }}\"\n    auto_deploy: true\n    canary: {pause: 1s}\n"+
			"  production:\n    namespace: "+ns+"\n    deployments: [{name: api}]\n    image: \"x:{{ .SHA }}\"\n")
	}
	// The merge's push: ferry assesses it (an unassessed commit does not
	// deploy by itself).
	sim.Push("acme/api", "main", before, good, []githubsim.PushCommit{{SHA: good, Message: "Docs", Author: "alice", Modified: []string{"docs/guide.md"}}})
	waitFor(t, "the push assessed", func() bool { return len(checkRunsOn(sim, "acme/api", good)) == 1 })
	sim.CheckSuiteCompleted("acme/api", "main", bad, "failure")
	sim.CheckSuiteCompleted("acme/api", "main", fork, "success") // a fork's "main": not this repository's tip
	sim.CheckSuiteCompleted("acme/api", "feature", good, "success")
	sim.CheckSuiteCompleted("acme/api", "main", good, "success")
	sim.CheckSuiteCompleted("acme/api", "main", good, "success") // another app's suite
	db := dbtest.Open(t, dsn)
	t.Cleanup(func() {
		if t.Failed() {
			rows, _ := db.SQL().Query(`SELECT event, action, status, error FROM deliveries`)
			for rows != nil && rows.Next() {
				var e, a, st, er string
				_ = rows.Scan(&e, &a, &st, &er)
				t.Logf("delivery %s.%s %s %s", e, a, st, er)
			}
		}
	})
	waitFor(t, "the staging deploy", func() bool {
		ds, err := db.Deploys(context.Background(), repoID, "staging")
		return err == nil && len(ds) == 1 && ds[0].Status == deploy.Succeeded
	})
	ds, _ := db.Deploys(context.Background(), repoID, "staging")
	if ds[0].SHA != good || ds[0].Actor != "ferry" {
		t.Fatalf("deploy %+v", ds[0])
	}
	if prod, _ := db.Deploys(context.Background(), repoID, "production"); len(prod) != 0 {
		t.Fatalf("production deployed automatically: %+v", prod)
	}
	if deps := sim.Deployments("acme/api"); len(deps) != 1 || deps[0].Environment != "staging" {
		t.Fatalf("GitHub deployments %+v", deps)
	}
	want := map[string]int{"ghcr.io/acme/api:" + good[:8]: 2}
	waitFor(t, "staging to serve the merged commit", func() bool { return maps.Equal(kubetest.Images(t, cs, ns, "app=api"), want) })
}
