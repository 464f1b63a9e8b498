package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/promotion"
)

// first lands alice's change, deployed to staging, and returns it with the
// production-deploy pull request that proposes it.
func (w *promoteWorld) first() (string, githubsim.PullRequest) {
	w.t.Helper()
	c1 := w.merge("alice", "feat: list orders", map[string]string{"api/orders.go": "package main\n"})
	return c1, w.openPR("the production-deploy pull request", func(p githubsim.PullRequest) bool { return p.HeadSHA == c1 })
}

// restoredTo fails the test unless deploy/production holds the content of
// sha again (a commit on top of the merge) and nothing deployed there.
func (w *promoteWorld) restoredTo(t *testing.T, number int, sha string) {
	t.Helper()
	waitFor(t, "deploy/production moved back", func() bool { return w.promotion(number).State == promotion.Restored })
	tip := w.sim.Ref("acme/api", "heads/deploy/production")
	if w.sim.CommitTree("acme/api", tip) != w.sim.CommitTree("acme/api", sha) {
		t.Fatalf("deploy/production at %s does not hold %s's content", tip[:8], sha[:8])
	}
	if d := w.deploys("production"); len(d) != 0 {
		t.Fatalf("production deployed: %+v", d)
	}
}

// refusedMerge merges the pull request as login and checks that ferry
// refuses it, saying mention, and moves deploy/production back to root.
func (w *promoteWorld) refusedMerge(t *testing.T, number int, login, mention string) {
	t.Helper()
	w.mergePR(number, login)
	if body := w.refusal(t, number); !strings.Contains(body, mention) {
		t.Fatalf("refusal:\n%s", body)
	}
	w.restoredTo(t, number, w.root)
}

// refusal waits for ferry's word on the pull request and returns it.
func (w *promoteWorld) refusal(t *testing.T, number int) string {
	t.Helper()
	var body string
	waitFor(t, "the refusal on the pull request", func() bool {
		for _, c := range w.sim.Comments("acme/api", number) {
			if strings.Contains(c.Body, "ferry will not deploy this merge") {
				body = c.Body
				return true
			}
		}
		return false
	})
	return body
}

// TestAttack_PromotionMergedByAuthor: the author of a change in the
// production-deploy pull request merges it — their own change's approval.
// Nothing deploys; the pull request says why; deploy/production records
// what runs again.
func TestAttack_PromotionMergedByAuthor(t *testing.T) {
	w := newPromoteWorld(t)
	w.start()
	_, pr := w.first()
	w.refusedMerge(t, pr.Number, "alice", "does not count (the author or a pusher")
}

// TestAttack_PromotionHeadMoved: someone with write access points ferry's
// branch at another commit and merges: ferry ships only the commit it
// proposed, and this merge ships nothing.
func TestAttack_PromotionHeadMoved(t *testing.T) {
	w := newPromoteWorld(t)
	w.start()
	c1, pr := w.first()
	evil := strings.Repeat("e", 40)
	w.sim.AddCommit("acme/api", evil, c1)
	w.sim.SetBranch("acme/api", "ferry/promote/production", evil)
	w.sim.SetPullRequestHead("acme/api", pr.Number, evil, nil, nil)
	w.refusedMerge(t, pr.Number, "carol", "only ferry moves its branch")
}

// TestAttack_PromotionMergedWithoutRole: the policy gives deploys to
// admins; a maintainer's merge does not ship.
func TestAttack_PromotionMergedWithoutRole(t *testing.T) {
	w := newPromoteWorld(t)
	w.sim.SetFile("acme/api", "main", ".github/ferry.yml", w.policy()+"commands:\n  deploy: {permission: admin}\n")
	w.start()
	_, pr := w.first()
	w.refusedMerge(t, pr.Number, "carol", "needs admin permission; you have maintain")
}

// TestAttack_PromotionOfAnUnmergedHead: a pull request's head deployed to
// staging by command is not on the default branch: it never becomes the
// candidate, which only the default branch's history provides.
func TestAttack_PromotionOfAnUnmergedHead(t *testing.T) {
	w := newPromoteWorld(t)
	w.start()
	n := w.sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "wip: experiment", User: "mallory", Head: "wip", Base: "main",
		Files: []githubsim.File{{Filename: "docs/x.md", Status: "added", Additions: 1}}})
	head := w.sim.PullRequests("acme/api")[0].HeadSHA
	w.sim.AddComparison("acme/api", w.root[:8], head, nil, nil)
	w.sim.OpenPullRequest("acme/api", n)
	waitFor(t, "the pull request assessed", func() bool { return len(checkRunsOn(w.sim, "acme/api", head)) == 1 })
	if reply, ok := command(t, w.sim, "acme/api", n, "carol", "/ferry deploy staging"); !ok {
		t.Fatalf("staging deploy refused:\n%s", reply)
	}
	waitFor(t, "staging to run the pull request's head", func() bool {
		d := w.deploys("staging")
		return len(d) == 1 && d[0].Terminal()
	})
	_, pr := w.first()
	if strings.Contains(pr.Body, "experiment") || len(w.prodPRs()) != 1 {
		t.Fatalf("an unmerged head was proposed:\n%s", pr.Body)
	}
}

// TestProductionPR_DeployCommand: /ferry deploy production on the pull
// request works like merging it: refused for an author of a change in it,
// shipped for someone else; once production runs it, the pull request is
// closed as done.
func TestProductionPR_DeployCommand(t *testing.T) {
	w := newPromoteWorld(t)
	w.start()
	c1, pr := w.first()
	if reply, ok := command(t, w.sim, "acme/api", pr.Number, "alice", "/ferry deploy production"); ok ||
		!strings.Contains(reply, "does not count (the author or a pusher") {
		t.Fatalf("an author shipped it: ok %t\n%s", ok, reply)
	}
	if reply, ok := command(t, w.sim, "acme/api", pr.Number, "carol", "/ferry deploy production"); !ok {
		t.Fatalf("refused:\n%s", reply)
	}
	waitFor(t, "the pull request closed as shipped", func() bool {
		d := w.deploys("production")
		return len(d) == 1 && d[0].SHA == c1 && d[0].Actor == "carol" && w.prodPRs()[0].State == "closed"
	})
	if p, _ := w.db.Promotion(context.Background(), w.repoID, pr.Number); p.State != promotion.Deployed {
		t.Fatalf("state %s", p.State)
	}
}

// TestAttack_PromotionBorrowedPullRequest: a commit whose message claims a
// pull request it did not come from (a harmless, approved one merged
// elsewhere, or one that does not exist) borrows neither its title nor its
// author nor its risk: the row shows the commit as it is, and a bad
// number breaks nothing.
func TestAttack_PromotionBorrowedPullRequest(t *testing.T) {
	w := newPromoteWorld(t)
	w.start()
	decoy := w.sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "docs: typo", User: "carol", Head: "typo", Base: "main"})
	w.sim.MergedAs("acme/api", decoy, strings.Repeat("d", 40), "carol")
	c1 := w.mergeClaiming("mallory", fmt.Sprintf("feat: rewrite auth (#%d)", decoy), map[string]string{"internal/auth/session.go": "package auth\n"})
	c2 := w.mergeClaiming("mallory", "chore: tidy (#999)", map[string]string{"api/tidy.go": "package main\n"})
	pr := w.openPR("the production-deploy pull request", func(p githubsim.PullRequest) bool { return p.HeadSHA == c2 })
	if strings.Contains(pr.Body, "docs: typo") || !strings.Contains(pr.Body, "| feat: rewrite auth (#"+strconv.Itoa(decoy)+") |") ||
		!strings.Contains(pr.Body, "| chore: tidy (#999) |") {
		t.Fatalf("body:\n%s", pr.Body)
	}
	_ = c1
}

// TestAttack_PromotionBaseChanged: someone points ferry's pull request at
// main and merges it: nothing deploys, and main is never "moved back" —
// only the branch ferry proposed into is.
func TestAttack_PromotionBaseChanged(t *testing.T) {
	w := newPromoteWorld(t)
	w.start()
	_, pr := w.first()
	b, _ := json.Marshal(map[string]string{"base": "main"})
	req, _ := http.NewRequest(http.MethodPatch, fmt.Sprintf("%srepos/acme/api/pulls/%d", w.sim.URL(), pr.Number), bytes.NewReader(b))
	req.Header.Set("Authorization", "token "+w.sim.InstallationToken(31))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("change the base: %v %v", resp, err)
	}
	resp.Body.Close()
	merge := w.sim.MergePullRequest("acme/api", pr.Number, "carol")
	w.sim.PullRequestClosed("acme/api", pr.Number)
	if body := w.refusal(t, pr.Number); !strings.Contains(body, "no longer merges into deploy/production") {
		t.Fatalf("refusal:\n%s", body)
	}
	waitFor(t, "the record settled", func() bool { return w.promotion(pr.Number).State == promotion.Restored })
	if main := w.sim.Ref("acme/api", "heads/main"); main != merge {
		t.Fatalf("main moved to %s after the merge %s", main[:8], merge[:8])
	}
	if d := w.deploys("production"); len(d) != 0 {
		t.Fatalf("deployed: %+v", d)
	}
}
