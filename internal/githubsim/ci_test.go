package githubsim_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/githubsim"
)

// TestCIOnFerrysBranch: what the test writer reads and writes through the
// real adapter, each request checked against GitHub's description: a
// commit on a branch without a pull request, another on top of it, CI's
// runs with their output (a failed run's annotations too), the workflow
// runs on a commit, and one pull request into a branch that is not the
// default, updated in place.
func TestCIOnFerrysBranch(t *testing.T) {
	sim := githubsim.New(t, githubsim.Config{})
	sim.AddInstallation(77, "acme")
	sim.AddRepo(77, "acme/api")
	head := strings.Repeat("b", 40)
	sim.AddCommit("acme/api", head)
	sim.SetBranch("acme/api", "feature", head)
	app, err := github.New(github.Config{AppID: sim.AppID(), PrivateKey: sim.PrivateKeyPEM(), BaseURL: sim.URL(),
		RetryBase: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	c, ctx := app.Installation(77), context.Background()
	tip1, err := c.PushBranch(ctx, "acme", "api", forge.BranchCommit{Branch: "ferry/tests/1", Tree: head, Message: "r1",
		Files: map[string]string{"a/a_test.go": "package a", "a/b_test.go": "package a"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	tip2, err := c.PushBranch(ctx, "acme", "api", forge.BranchCommit{Branch: "ferry/tests/1", Tree: head, Parent: tip1, Message: "r2",
		Files: map[string]string{"a/a_test.go": "package a"}}, tip1)
	if err != nil || sim.Ref("acme/api", "heads/ferry/tests/1") != tip2 || len(sim.TreeFiles("acme/api", tip2)) != 1 ||
		sim.CommitParents("acme/api", tip2)[0] != tip1 {
		t.Fatalf("round 2: %v %v", err, sim.TreeFiles("acme/api", tip2))
	}
	// The same push again, its answer lost (the record still says tip1):
	// the commit there is adopted, not made twice.
	commits := sim.Count("git/create-commit", 201)
	again, err := c.PushBranch(ctx, "acme", "api", forge.BranchCommit{Branch: "ferry/tests/1", Tree: head, Parent: tip1, Message: "r2",
		Files: map[string]string{"a/a_test.go": "package a"}}, tip1)
	if err != nil || again != tip2 || sim.Count("git/create-commit", 201) != commits {
		t.Fatalf("retried push: %s %v (tip2 %s)", again, err, tip2)
	}
	id := sim.AddCheckRun("acme/api", tip2, "ci", "test", "completed", "failure")
	sim.SetCheckRunOutput("acme/api", id, "go test", "1 failed", "--- FAIL: TestA")
	sim.AddWorkflowRun("acme/api", 5, "CI", tip2, "ferry/tests/1", "failure")
	runs, err := c.CIRuns(ctx, "acme", "api", tip2)
	if err != nil || len(runs) != 1 || runs[0].Conclusion != "failure" || !strings.Contains(runs[0].Output, "--- FAIL: TestA") || runs[0].URL == "" {
		t.Fatalf("%+v %v", runs, err)
	}
	wrs, err := c.WorkflowRuns(ctx, "acme", "api", tip2)
	if err != nil || len(wrs) != 1 || wrs[0].ID != 5 || wrs[0].Conclusion != "failure" {
		t.Fatalf("%+v %v", wrs, err)
	}
	for i := range 2 {
		n, created, err := c.OpenPull(ctx, "acme", "api", "ferry/tests/1", "feature", "Tests for #1", "body")
		if err != nil || created != (i == 0) || n == 0 {
			t.Fatalf("open %d: %d %t %v", i, n, created, err)
		}
	}
	if prs := sim.PullRequests("acme/api"); len(prs) != 1 || prs[0].Base != "feature" {
		t.Fatalf("%+v", prs)
	}
}

// TestCIBranchNotFerrys: a branch named like ferry's that is someone
// else's — there before ferry, or moved since ferry left it — is not
// moved, and a pull request someone else opened from ferry's branch is
// not rewritten.
func TestCIBranchNotFerrys(t *testing.T) {
	sim := githubsim.New(t, githubsim.Config{})
	sim.AddInstallation(77, "acme")
	sim.AddRepo(77, "acme/api")
	head, theirs := strings.Repeat("b", 40), strings.Repeat("c", 40)
	sim.AddCommit("acme/api", head)
	sim.AddCommit("acme/api", theirs, head)
	sim.SetBranch("acme/api", "feature", head)
	sim.SetBranch("acme/api", "ferry/tests/1", theirs)
	app, err := github.New(github.Config{AppID: sim.AppID(), PrivateKey: sim.PrivateKeyPEM(), BaseURL: sim.URL(), BotLogin: sim.BotLogin(),
		RetryBase: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	c, ctx := app.Installation(77), context.Background()
	for _, from := range []string{"", head} {
		_, err := c.PushBranch(ctx, "acme", "api", forge.BranchCommit{Branch: "ferry/tests/1", Tree: head, Message: "r1",
			Files: map[string]string{"a/a_test.go": "package a"}}, from)
		if !errors.Is(err, github.ErrBranchTaken) || sim.Ref("acme/api", "heads/ferry/tests/1") != theirs {
			t.Fatalf("from %q: %v", from, err)
		}
	}
	sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "mine", Head: "ferry/tests/1", HeadSHA: theirs, Base: "feature", BaseSHA: head, User: "mallory"})
	if _, _, err := c.OpenPull(ctx, "acme", "api", "ferry/tests/1", "feature", "Tests for #1", "body"); !errors.Is(err, github.ErrBranchTaken) ||
		sim.PullRequests("acme/api")[0].Title != "mine" {
		t.Fatalf("%v %+v", err, sim.PullRequests("acme/api"))
	}
}
