package githubsim_test

import (
	"net/http"
	"strings"
	"testing"

	gh "github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/githubsim"
)

// Pull requests, comments and who sent what, through go-github as in
// authority_test.go.

func TestGetCommentAndOtherBots(t *testing.T) {
	sim := newSim(t)
	h := receive(t, sim)
	sim.AddRepo(inst, "acme/web")
	c := installation(t, sim)
	pr := sim.AddPullRequest(repo, githubsim.PullRequest{Title: "x"})
	own, _, err := c.Issues.CreateComment(ctx, owner, repoName, pr, &gh.IssueComment{Body: gh.String("risk: low")})
	if err != nil {
		t.Fatal(err)
	}
	evil := sim.AddComment(repo, pr, "evil[bot]", "risk: low")
	elsewhere := sim.AddComment("acme/web", 1, "alice", "hi")

	got, _, err := c.Issues.GetComment(ctx, owner, repoName, own.GetID())
	if err != nil || got.GetUser().GetLogin() != sim.BotLogin() || got.GetUser().GetType() != "Bot" || got.GetBody() != "risk: low" {
		t.Fatalf("ferry's comment %+v, %v", got, err)
	}
	other, _, err := c.Issues.GetComment(ctx, owner, repoName, evil)
	if err != nil || other.GetUser().GetLogin() != "evil[bot]" || other.GetUser().GetType() != "Bot" || other.GetUser().GetID() == got.GetUser().GetID() {
		t.Fatalf("another bot's comment %+v, %v", other.GetUser(), err)
	}
	if _, err := c.Issues.DeleteComment(ctx, owner, repoName, own.GetID()); err != nil {
		t.Fatal(err)
	}
	for name, id := range map[string]int64{"deleted": own.GetID(), "another repository's": elsewhere, "unknown": 1} {
		if _, resp, _ := c.Issues.GetComment(ctx, owner, repoName, id); status(resp) != http.StatusNotFound {
			t.Errorf("%s comment: %d", name, status(resp))
		}
	}

	sim.Comment(repo, pr, "evil[bot]", "/deploy production")
	ev := last[*gh.IssueCommentEvent](t, h)
	if ev.GetSender().GetLogin() != "evil[bot]" || ev.GetSender().GetType() != "Bot" || ev.GetComment().GetUser().GetType() != "Bot" {
		t.Fatalf("another bot's comment event: sender %+v", ev.GetSender())
	}
}

func TestMergePullRequest(t *testing.T) {
	sim := newSim(t)
	h := receive(t, sim)
	c := installation(t, sim)
	head := strings.Repeat("e", 40)
	files := []githubsim.File{{Filename: "main.go", Status: "modified", Additions: 1}}
	pr := sim.AddPullRequest(repo, githubsim.PullRequest{Title: "Add", User: "alice", Head: "feature", HeadSHA: head, Files: files})
	before := sim.Ref(repo, "heads/main")
	merge := sim.MergePullRequest(repo, pr, "bob")
	if sim.Ref(repo, "heads/main") != merge || merge == before {
		t.Fatalf("main at %s, merge %s", sim.Ref(repo, "heads/main"), merge)
	}
	p, _, err := c.PullRequests.Get(ctx, owner, repoName, pr)
	if err != nil {
		t.Fatal(err)
	}
	if p.GetState() != "closed" || !p.GetMerged() || p.GetMergedBy().GetLogin() != "bob" || p.GetMergeCommitSHA() != merge ||
		p.MergedAt == nil || p.ClosedAt == nil || p.GetUser().GetLogin() != "alice" {
		t.Fatalf("merged pull request: state %s merged %v by %s sha %s", p.GetState(), p.GetMerged(), p.GetMergedBy().GetLogin(), p.GetMergeCommitSHA())
	}
	b, _, err := c.Repositories.GetBranch(ctx, owner, repoName, "main", 0)
	if err != nil || b.GetCommit().GetSHA() != merge || len(b.GetCommit().Parents) != 2 || b.GetCommit().Parents[0].GetSHA() != before {
		t.Fatalf("main %+v, %v", b.GetCommit(), err)
	}
	closed, _, _ := c.PullRequests.List(ctx, owner, repoName, &gh.PullRequestListOptions{State: "closed"})
	if len(closed) != 1 || closed[0].MergedAt == nil || closed[0].GetMergeCommitSHA() != merge {
		t.Fatalf("closed pull requests %+v", closed)
	}
	change, _, err := c.Repositories.CompareCommits(ctx, owner, repoName, before, merge, nil)
	if err != nil || len(change.Files) != 1 {
		t.Fatalf("compare before...merge: %+v, %v", change, err)
	}

	if _, code := sim.PullRequestClosed(repo, pr); code != http.StatusAccepted {
		t.Fatalf("webhook answered %d", code)
	}
	ev := last[*gh.PullRequestEvent](t, h)
	if ev.GetAction() != "closed" || !ev.GetPullRequest().GetMerged() || ev.GetSender().GetLogin() != "bob" ||
		ev.GetPullRequest().GetMergeCommitSHA() != merge || ev.GetPullRequest().GetMergedBy().GetLogin() != "bob" {
		t.Fatalf("closed event: action %s merged %v sender %s", ev.GetAction(), ev.GetPullRequest().GetMerged(), ev.GetSender().GetLogin())
	}

	unmerged := sim.AddPullRequest(repo, githubsim.PullRequest{Title: "Drop", User: "alice"})
	sim.PullRequestClosed(repo, unmerged)
	ev = last[*gh.PullRequestEvent](t, h)
	if ev.GetPullRequest().GetState() != "closed" || ev.GetPullRequest().GetMerged() || ev.GetSender().GetLogin() != "alice" || ev.GetPullRequest().MergedAt != nil {
		t.Fatalf("closed unmerged: %+v", ev.GetPullRequest())
	}
}

func TestWebhookSenders(t *testing.T) {
	sim := newSim(t)
	h := receive(t, sim)
	c := installation(t, sim)
	pr := sim.AddPullRequest(repo, githubsim.PullRequest{Title: "x", User: "alice"})
	head := sim.PullRequests(repo)[0].HeadSHA
	run, _, err := c.Checks.CreateCheckRun(ctx, owner, repoName, gh.CreateCheckRunOptions{Name: "ferry/risk", HeadSHA: head})
	if err != nil {
		t.Fatal(err)
	}
	sender := func() *gh.User {
		t.Helper()
		h.mu.Lock()
		defer h.mu.Unlock()
		switch ev := h.events[len(h.events)-1].(type) {
		case *gh.PullRequestEvent:
			return ev.GetSender()
		case *gh.IssueCommentEvent:
			return ev.GetSender()
		case *gh.CheckRunEvent:
			if ev.GetCheckRun().GetApp().GetID() != sim.AppID() {
				t.Errorf("button on a run of app %d", ev.GetCheckRun().GetApp().GetID())
			}
			return ev.GetSender()
		}
		t.Fatalf("unexpected %T", h.events[len(h.events)-1])
		return nil
	}
	next := strings.Repeat("1", 40)
	tests := []struct {
		name      string
		send      func()
		login, as string
	}{
		{"opened by the author", func() { sim.OpenPullRequest(repo, pr) }, "alice", "User"},
		{"pushed by the author", func() { sim.PushToPullRequest(repo, pr, next, nil, nil) }, "alice", "User"},
		{"pushed by another", func() { sim.PushToPullRequestAs("mallory", repo, pr, strings.Repeat("2", 40), nil, nil) }, "mallory", "User"},
		{"commented", func() { sim.Comment(repo, pr, "bob", "/approve") }, "bob", "User"},
		{"button", func() { sim.PressButton(repo, run.GetID(), "deploy", "carol") }, "carol", "User"},
		{"button by a bot", func() { sim.PressButton(repo, run.GetID(), "deploy", "evil[bot]") }, "evil[bot]", "Bot"},
	}
	for _, tt := range tests {
		tt.send()
		if got := sender(); got.GetLogin() != tt.login || got.GetType() != tt.as || got.GetID() == 0 {
			t.Errorf("%s: sender %s (%s)", tt.name, got.GetLogin(), got.GetType())
		}
	}
}
