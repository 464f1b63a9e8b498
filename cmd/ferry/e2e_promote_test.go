package main

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/kubetest"
	"github.com/ferry-ci/ferry/internal/promotion"
	"github.com/ferry-ci/ferry/internal/promtest"
)

// TestProductionPR_ListsAndShips: three changes deployed to staging make
// one production-deploy pull request listing all three with their risk,
// its diff from what production runs; a fourth updates the same pull
// request. Merging it (by someone who wrote none of it) deploys exactly
// its head to production, with the strategy of the combined risk, and
// reports there; the pull request's work is done.
func TestProductionPR_ListsAndShips(t *testing.T) {
	w := newPromoteWorld(t)
	w.start()
	w.merge("alice", "feat: list orders", map[string]string{"api/orders.go": "package main\n"})
	w.merge("bob", "fix: empty carts", map[string]string{"api/cart.go": "package main\n"})
	c3 := w.merge("alice", "docs: explain carts", map[string]string{"docs/carts.md": "# Carts\n"})
	pr := w.openPR("the production-deploy pull request listing three changes", func(p githubsim.PullRequest) bool {
		return p.HeadSHA == c3 && strings.Contains(p.Body, "3 changes")
	})
	for _, want := range []string{w.row("feat: list orders"), w.row("fix: empty carts"), w.row("docs: explain carts"), "@&#8203;alice",
		"deployed successfully to staging", "which runs `" + w.root[:8] + "`", "/compare/" + w.root + "..." + c3} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, pr.Body)
		}
	}
	if pr.Base != "deploy/production" || w.sim.Ref("acme/api", "heads/deploy/production") != w.root {
		t.Fatalf("base %s at %s, want deploy/production at %s", pr.Base, w.sim.Ref("acme/api", "heads/deploy/production"), w.root[:8])
	}
	if d := w.deploys("production"); len(d) != 0 {
		t.Fatalf("production deployed before anyone merged: %+v", d)
	}

	c4 := w.merge("bob", "feat: dark mode", map[string]string{"web/theme.css": "body{}\n"})
	pr = w.openPR("the same pull request with the fourth change", func(p githubsim.PullRequest) bool { return p.HeadSHA == c4 })
	if n := len(w.prodPRs()); n != 1 || !strings.Contains(pr.Body, w.row("feat: dark mode")) || !strings.Contains(pr.Body, "4 changes") {
		t.Fatalf("%d production-deploy pull requests; body:\n%s", n, pr.Body)
	}

	merged := time.Now()
	w.mergePR(pr.Number, "carol")
	waitFor(t, "the production deploy", func() bool {
		d := w.deploys("production")
		return len(d) == 1 && d[0].Status == deploy.Succeeded
	})
	d := w.deploys("production")[0]
	w.logFirstStep(d, merged)
	if decisions := decisionsWith(t, w.db, "promote-"); len(decisions) < 3 {
		t.Fatalf("audit trail: %d promote decisions (proposed, approved, shipped)", len(decisions))
	}
	if d.SHA != c4 || d.Actor != "carol" || d.Number != pr.Number {
		t.Fatalf("deploy %+v", d)
	}
	if want := map[string]int{"ghcr.io/acme/api:" + c4[:8]: 2}; !maps.Equal(w.prodImages(), want) {
		t.Fatalf("production runs %v, want %v", w.prodImages(), want)
	}
	waitFor(t, "the deployed state", func() bool { return w.promotion(pr.Number).State == promotion.Deployed })
	waitFor(t, "the progress on the pull request", func() bool {
		for _, c := range w.sim.Comments("acme/api", pr.Number) {
			if strings.Contains(c.Body, "ferry:deploy-production") && strings.Contains(c.Body, "— succeeded") {
				return true
			}
		}
		return false
	})
	if n := len(w.prodPRs()); n != 1 {
		t.Fatalf("%d production-deploy pull requests after shipping, want 1 (nothing new to ship)", n)
	}
}

// TestProductionPR_MigrationHolds: a change adding a migration is named
// under "Needs attention"; when the production canary of the pull request
// turns unhealthy, ferry holds for a human instead of rolling back across
// the migration.
func TestProductionPR_MigrationHolds(t *testing.T) {
	w := newPromoteWorld(t)
	app := w.withMetrics(t)
	w.start()
	files := map[string]string{"db/migrate/20261130_orders_total.sql": "ALTER TABLE orders ADD COLUMN total int;\n", "api/orders.go": "package main\n"}
	c1 := w.merge("alice", "feat: orders total", files)
	pr := w.openPR("the production-deploy pull request", func(p githubsim.PullRequest) bool { return p.HeadSHA == c1 })
	for _, want := range []string{"#### Needs attention", `migration db/migrate/20261130\_orders\_total.sql`,
		"not marked backward compatible: a rollback holds for a human"} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, pr.Body)
		}
	}
	// What the deploy agent compares to find migrations: what runs (the
	// cluster's image names root's prefix) against the candidate.
	w.sim.AddComparison("acme/api", w.root[:8], c1, []githubsim.File{{Filename: "db/migrate/20261130_orders_total.sql", Status: "added", Additions: 1}}, nil)
	w.mergePR(pr.Number, "carol")
	waitFor(t, "the canary's pods", func() bool {
		return kubetest.Images(t, w.cs, w.prod, "app=api,ferry.dev/track=canary")["ghcr.io/acme/api:"+c1[:8]] >= 1
	})
	app.Set("canary", promtest.Behaviour{ErrorRate: 0.5, Latency: 50 * time.Millisecond})
	waitFor(t, "the migration hold", func() bool {
		d := w.deploys("production")
		return len(d) == 1 && d[0].HoldCause == deploy.HoldMigrations
	})
	if d := w.deploys("production")[0]; d.Terminal() || d.SHA != c1 {
		t.Fatalf("deploy %+v", d)
	}
}

// TestProductionPR_RollbackRestoresBranch: the production canary of the
// merged pull request turns unhealthy and rolls back; deploy/production is
// moved back to what runs with a recorded commit on top of the merge
// (never a force push), the pull request is told, and the next candidate
// opens a new pull request whose diff starts from what runs — which,
// merged, ships (its canary starts).
func TestProductionPR_RollbackRestoresBranch(t *testing.T) {
	w := newPromoteWorld(t)
	app := w.withMetrics(t)
	w.start()
	c1 := w.merge("alice", "feat: risky cache", map[string]string{"api/cache.go": "package main\n"})
	pr := w.openPR("the production-deploy pull request", func(p githubsim.PullRequest) bool { return p.HeadSHA == c1 })
	// What the deploy agent compares to find migrations (none): what runs
	// (the cluster's image names root's prefix) against the candidate.
	w.sim.AddComparison("acme/api", w.root[:8], c1, nil, nil)
	w.mergePR(pr.Number, "carol")
	merge := w.sim.Ref("acme/api", "heads/deploy/production")
	waitFor(t, "the canary's pods", func() bool {
		return kubetest.Images(t, w.cs, w.prod, "app=api,ferry.dev/track=canary")["ghcr.io/acme/api:"+c1[:8]] >= 1
	})
	app.Set("canary", promtest.Behaviour{ErrorRate: 0.5, Latency: 50 * time.Millisecond})
	waitFor(t, "the automatic rollback", func() bool {
		d := w.deploys("production")
		return len(d) == 1 && d[0].EndCause == deploy.EndRolledBackAuto
	})
	app.Set("canary", promtest.Behaviour{Latency: 50 * time.Millisecond})
	healthy := time.Now()
	waitFor(t, "deploy/production moved back", func() bool { return w.promotion(pr.Number).State == promotion.Restored })
	tip := w.sim.Ref("acme/api", "heads/deploy/production")
	if w.sim.CommitTree("acme/api", tip) != w.sim.CommitTree("acme/api", w.root) || !slices.Equal(w.sim.CommitParents("acme/api", tip), []string{merge}) {
		t.Fatalf("deploy/production at %s (parents %v): want root's content on top of the merge %s", tip[:8], w.sim.CommitParents("acme/api", tip), merge[:8])
	}
	waitFor(t, "the pull request told", func() bool {
		for _, c := range w.sim.Comments("acme/api", pr.Number) {
			if strings.Contains(c.Body, "runs `"+w.root[:8]+"` again") {
				return true
			}
		}
		return false
	})
	// The rollback scaled the canary to nothing; its pod goes when the
	// control plane's controllers get to it.
	want := map[string]int{"ghcr.io/acme/api:" + w.root[:8]: 2}
	waitFor(t, "production running only what ran before", func() bool { return maps.Equal(w.prodImages(), want) })

	c2 := w.merge("bob", "fix: cache keys", map[string]string{"api/cache.go": "package main\n\n// keys\n"})
	next := w.openPR("a new production-deploy pull request", func(p githubsim.PullRequest) bool { return p.Number != pr.Number })
	w.sim.AddComparison("acme/api", w.root[:8], c2, nil, nil)
	if next.HeadSHA == c2 || w.sim.CommitTree("acme/api", next.HeadSHA) != w.sim.CommitTree("acme/api", c2) ||
		!slices.Equal(w.sim.CommitParents("acme/api", next.HeadSHA), []string{tip, c2}) {
		t.Fatalf("head %s (parents %v): want c2's content on top of deploy/production", next.HeadSHA[:8], w.sim.CommitParents("acme/api", next.HeadSHA))
	}
	for _, want := range []string{w.row("feat: risky cache"), w.row("fix: cache keys"), "rolled back before in production", "which runs `" + w.root[:8] + "`"} {
		if !strings.Contains(next.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, next.Body)
		}
	}
	// The canary's errors leave the analysis window (5s) before the next
	// canary is judged.
	time.Sleep(time.Until(healthy.Add(8 * time.Second)))
	w.mergePR(next.Number, "carol")
	waitFor(t, "the second production canary", func() bool {
		d := w.deploys("production")
		return len(d) == 2 && d[0].SHA == c2 &&
			kubetest.Images(t, w.cs, w.prod, "app=api,ferry.dev/track=canary")["ghcr.io/acme/api:"+c2[:8]] >= 1
	})
}

// TestProductionPR_FreezeHolds: in a freeze window the body says the
// deploy would be held; merged, the deploy is recorded and held, with the
// reason on the pull request.
func TestProductionPR_FreezeHolds(t *testing.T) {
	now := time.Now().UTC()
	w := newPromoteWorld(t, "    freeze: [{from: "+now.Add(-time.Hour).Format(time.RFC3339)+", to: "+now.Add(time.Hour).Format(time.RFC3339)+", reason: year-end}]")
	w.sim.SetFile("acme/api", "main", ".github/ferry.yml", w.policy())
	w.start()
	_, pr := w.first()
	if !strings.Contains(pr.Body, "held when merged: frozen until") || !strings.Contains(pr.Body, "year-end") {
		t.Fatalf("body does not say the freeze holds it:\n%s", pr.Body)
	}
	w.mergePR(pr.Number, "carol")
	waitFor(t, "the held deploy", func() bool {
		d := w.deploys("production")
		return len(d) == 1 && d[0].HoldCause == deploy.HoldFrozen
	})
	waitFor(t, "the reason on the pull request", func() bool {
		for _, c := range w.sim.Comments("acme/api", pr.Number) {
			if strings.Contains(c.Body, "ferry:deploy-production") && strings.Contains(c.Body, "frozen until") && strings.Contains(c.Body, "year-end") {
				return true
			}
		}
		return false
	})
	if want := map[string]int{"ghcr.io/acme/api:" + w.root[:8]: 2}; !maps.Equal(w.prodImages(), want) {
		t.Fatalf("production changed during the freeze: %v", w.prodImages())
	}
}

// TestProductionPR_CrashAfterMerge: ferry records the merge, then fails
// (GitHub errs) and is killed before the deploy is recorded; restarted, it
// deploys the merged commit exactly once.
func TestProductionPR_CrashAfterMerge(t *testing.T) {
	w := newPromoteWorld(t)
	// A short job timeout: River rescues a job the kill left running soon.
	args := append(appArgs(t, w.sim), append(w.serveArgs, "--job-timeout=4s")...)
	s := startServe(t, args...)
	w.sim.SetWebhookURL(s.url + "/webhook")
	c1, pr := w.first()
	// The deploy agent reads the pull request before it records the
	// deploy: that read fails once, after the merge is recorded.
	w.sim.Inject(githubsim.Fault{Method: http.MethodGet, Path: fmt.Sprintf("^/repos/acme/api/pulls/%d$", pr.Number), Status: http.StatusBadGateway})
	w.mergePR(pr.Number, "carol")
	waitFor(t, "the merge recorded", func() bool { return w.promotion(pr.Number).State == promotion.Merged })
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.done
	s.done <- nil
	if d := w.deploys("production"); len(d) != 0 {
		t.Fatalf("deploy recorded before the crash: %+v", d)
	}
	s2 := startServe(t, args...)
	w.sim.SetWebhookURL(s2.url + "/webhook")
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if d := w.deploys("production"); len(d) == 1 && d[0].Status == deploy.Succeeded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the merged pull request did not deploy after the restart: %+v", w.deploys("production"))
		}
	}
	var prod int
	for _, d := range w.sim.Deployments("acme/api") {
		if d.Environment == "production" {
			prod++
		}
	}
	if d := w.deploys("production"); len(d) != 1 || d[0].SHA != c1 || prod != 1 {
		t.Fatalf("%d deploys, %d GitHub deployments: %+v", len(d), prod, d)
	}
}

// TestProductionPR_PauseHolds: a pause holds the merged pull request's
// deploy like any other, with the reason on the pull request.
func TestProductionPR_PauseHolds(t *testing.T) {
	w := newPromoteWorld(t)
	w.start()
	_, pr := w.first()
	if reply, ok := command(t, w.sim, "acme/api", pr.Number, "carol", "/ferry pause production incident 42"); !ok {
		t.Fatalf("pause refused:\n%s", reply)
	}
	w.mergePR(pr.Number, "bob")
	waitFor(t, "the paused deploy and its reason on the pull request", func() bool {
		d := w.deploys("production")
		if len(d) != 1 || d[0].HoldCause != deploy.HoldPaused {
			return false
		}
		for _, c := range w.sim.Comments("acme/api", pr.Number) {
			if strings.Contains(c.Body, "ferry:deploy-production") && strings.Contains(c.Body, "paused by") && strings.Contains(c.Body, "incident 42") {
				return true
			}
		}
		return false
	})
}

// TestProductionPR_FromDefaultBranch: without promote_from, the candidate
// is the default branch's tip once its required checks are green: a tip
// whose CI failed is not proposed, the next green one is.
func TestProductionPR_FromDefaultBranch(t *testing.T) {
	w := newPromoteWorld(t)
	w.fromBranch = true
	w.sim.SetFile("acme/api", "main", ".github/ferry.yml", w.policy())
	w.start()
	_, pr := w.first()
	if !strings.Contains(pr.Body, "passed its required checks on the default branch") || strings.Contains(pr.Body, "in staging") {
		t.Fatalf("body:\n%s", pr.Body)
	}
	// A red tip is not a candidate: the pull request stays at c1.
	before := w.tip
	c2 := w.git.Commit("feat: red (#99)", map[string]string{"api/red.go": "package main\n"})
	w.git.Publish(w.bare)
	w.sim.AddCommit("acme/api", c2, before)
	w.sim.AddComparison("acme/api", before, c2, []githubsim.File{{Filename: "api/red.go", Status: "added", Additions: 1}}, nil)
	w.sim.SetBranch("acme/api", "main", c2)
	w.tip = c2
	w.sim.Push("acme/api", "main", before, c2, []githubsim.PushCommit{{SHA: c2, Message: "feat: red", Author: "bob", Modified: []string{"api/red.go"}}})
	waitFor(t, "the red push assessed", func() bool { return len(checkRunsOn(w.sim, "acme/api", c2)) == 1 })
	w.sim.CheckSuiteCompleted("acme/api", "main", c2, "failure")
	c3 := w.merge("bob", "fix: green again", map[string]string{"api/red.go": "package main\n\n// fixed\n"})
	pr = w.openPR("the pull request at the green tip", func(p githubsim.PullRequest) bool { return p.HeadSHA == c3 })
	if len(w.prodPRs()) != 1 || !strings.Contains(pr.Body, "3 changes") {
		t.Fatalf("%d pull requests; body:\n%s", len(w.prodPRs()), pr.Body)
	}
}
