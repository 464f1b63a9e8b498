package github

import (
	"context"
	"fmt"

	gh "github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/forge"
)

// CreateTag makes a lightweight tag at sha. A tag already there is not an
// error (a retry); one that names another commit is forge.ErrTagElsewhere.
func (c *Client) CreateTag(ctx context.Context, owner, repo, tag, sha string) error {
	ref := &gh.Reference{Ref: gh.String("refs/tags/" + tag), Object: &gh.GitObject{SHA: gh.String(sha)}}
	_, _, err := c.gh.Git.CreateRef(ctx, owner, repo, ref)
	if err == nil || Classify(err) != KindValidation {
		if err != nil {
			return fmt.Errorf("create tag %s: %w", tag, err)
		}
		return nil
	}
	have, _, gerr := c.gh.Git.GetRef(ctx, owner, repo, "tags/"+tag)
	switch {
	case gerr != nil:
		return fmt.Errorf("create tag %s: %w", tag, err)
	case have.GetObject().GetSHA() != sha:
		return fmt.Errorf("tag %s at %s, not %s: %w", tag, have.GetObject().GetSHA(), sha, forge.ErrTagElsewhere)
	}
	return nil
}

// FindRelease returns the id of the release of a tag, or 0.
func (c *Client) FindRelease(ctx context.Context, owner, repo, tag string) (int64, error) {
	rel, _, err := c.gh.Repositories.GetReleaseByTag(ctx, owner, repo, tag)
	if Classify(err) == KindNotFound {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("release of %s: %w", tag, err)
	}
	return rel.GetID(), nil
}

// CreateRelease publishes the release of an existing tag.
func (c *Client) CreateRelease(ctx context.Context, owner, repo string, r forge.Release) (int64, error) {
	rel, _, err := c.gh.Repositories.CreateRelease(ctx, owner, repo, &gh.RepositoryRelease{TagName: gh.String(r.Tag),
		Name: gh.String(r.Name), Body: gh.String(Truncate(r.Body, 125000)), Prerelease: gh.Bool(r.Prerelease)})
	if err != nil {
		return 0, fmt.Errorf("create release %s: %w", r.Tag, err)
	}
	return rel.GetID(), nil
}

// CommitPullRequests lists the pull requests a commit belongs to (the
// merged ones first, as GitHub orders them).
func (c *Client) CommitPullRequests(ctx context.Context, owner, repo, sha string) ([]forge.PullRequest, error) {
	prs, _, err := c.gh.PullRequests.ListPullRequestsWithCommit(ctx, owner, repo, sha, &gh.ListOptions{PerPage: 100})
	if err != nil {
		return nil, fmt.Errorf("pull requests of %s: %w", sha, err)
	}
	out := make([]forge.PullRequest, len(prs))
	for i, p := range prs {
		out[i] = pullRequestOf(p)
	}
	return out, nil
}
