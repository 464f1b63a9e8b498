package githubsim_test

import (
	"testing"

	gh "github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/githubsim"
)

// TestReleases: a release of a new tag creates the tag at its target; a
// second release of the tag is refused; a release is found by its tag.
func TestReleases(t *testing.T) {
	sim := newSim(t)
	c := installation(t, sim)
	main := sim.Ref(repo, "heads/main")
	rel, _, err := c.Repositories.CreateRelease(ctx, owner, repoName, &gh.RepositoryRelease{TagName: gh.String("v1.0.0"),
		TargetCommitish: gh.String(main), Name: gh.String("v1.0.0"), Body: gh.String("notes")})
	if err != nil || rel.GetTagName() != "v1.0.0" {
		t.Fatalf("create: %+v %v", rel, err)
	}
	if got := sim.Ref(repo, "tags/v1.0.0"); got != main {
		t.Fatalf("tag at %q, want %q", got, main)
	}
	_, resp, err := c.Repositories.CreateRelease(ctx, owner, repoName, &gh.RepositoryRelease{TagName: gh.String("v1.0.0")})
	if err == nil || status(resp) != 422 {
		t.Fatalf("second release of a tag: %d %v", status(resp), err)
	}
	found, _, err := c.Repositories.GetReleaseByTag(ctx, owner, repoName, "v1.0.0")
	if err != nil || found.GetID() != rel.GetID() || found.GetBody() != "notes" {
		t.Fatalf("by tag: %+v %v", found, err)
	}
	if _, resp, _ := c.Repositories.GetReleaseByTag(ctx, owner, repoName, "v9"); status(resp) != 404 {
		t.Fatalf("unknown tag: %d", status(resp))
	}
	if len(sim.Releases(repo)) != 1 {
		t.Fatalf("releases %+v", sim.Releases(repo))
	}
}

// TestCommitPulls: the pull requests a commit belongs to.
func TestCommitPulls(t *testing.T) {
	sim := newSim(t)
	c := installation(t, sim)
	n := sim.AddPullRequest(repo, githubsim.PullRequest{Title: "Rebased"})
	sim.SetPullRequestCommits(repo, n, "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222")
	prs, _, err := c.PullRequests.ListPullRequestsWithCommit(ctx, owner, repoName, "2222222222222222222222222222222222222222", nil)
	if err != nil || len(prs) != 1 || prs[0].GetNumber() != n {
		t.Fatalf("pulls %+v %v", prs, err)
	}
	prs, _, err = c.PullRequests.ListPullRequestsWithCommit(ctx, owner, repoName, "3333333333333333333333333333333333333333", nil)
	if err != nil || len(prs) != 0 {
		t.Fatalf("no pulls: %+v %v", prs, err)
	}
}
