package github

import (
	"context"
	"fmt"

	gh "github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/forge"
)

// Repository returns a repository.
func (c *Client) Repository(ctx context.Context, owner, repo string) (*gh.Repository, error) {
	r, _, err := c.gh.Repositories.Get(ctx, owner, repo)
	if err != nil {
		return nil, fmt.Errorf("get repository %s/%s: %w", owner, repo, err)
	}
	return r, nil
}

// RepoInfo is what ferry needs of a repository it was just installed on
// (the installation event lists only names): its default branch and clone
// URL.
func (c *Client) RepoInfo(ctx context.Context, owner, repo string) (Repo, error) {
	r, err := c.Repository(ctx, owner, repo)
	if err != nil {
		return Repo{}, err
	}
	return Repo{ID: r.GetID(), Owner: r.GetOwner().GetLogin(), Name: r.GetName(), DefaultBranch: r.GetDefaultBranch(),
		CloneURL: r.GetCloneURL(), HTMLURL: r.GetHTMLURL()}, nil
}

// FileContent returns a file's bytes at ref (a branch, tag or SHA). A file
// that does not exist is an error of KindNotFound. Repeated reads are
// conditional, so an unchanged file costs no rate limit.
func (c *Client) FileContent(ctx context.Context, owner, repo, path, ref string) ([]byte, error) {
	f, _, _, err := c.gh.Repositories.GetContents(ctx, owner, repo, path, &gh.RepositoryContentGetOptions{Ref: ref})
	if err != nil {
		return nil, fmt.Errorf("get %s at %s in %s/%s: %w", path, ref, owner, repo, err)
	}
	if f == nil {
		return nil, fmt.Errorf("get %s at %s in %s/%s: a directory, not a file", path, ref, owner, repo)
	}
	s, err := f.GetContent()
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return []byte(s), nil
}

// MaxPullRequestFiles is the most files GitHub's API lists for a pull
// request; larger ones must be read with git.
const MaxPullRequestFiles = 3000

// PullRequestFiles lists every file of a pull request (all pages).
// truncated reports that GitHub's 3,000-file cap was reached.
func (c *Client) PullRequestFiles(ctx context.Context, owner, repo string, number int) (files []*gh.CommitFile, truncated bool, err error) {
	opts := &gh.ListOptions{PerPage: 100}
	for {
		page, resp, err := c.gh.PullRequests.ListFiles(ctx, owner, repo, number, opts)
		if err != nil {
			return nil, false, fmt.Errorf("list files of %s/%s#%d: %w", owner, repo, number, err)
		}
		files = append(files, page...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return files, len(files) >= MaxPullRequestFiles, nil
}

// PullRequestCommits lists a pull request's commits (all pages; GitHub
// lists at most 250).
func (c *Client) PullRequestCommits(ctx context.Context, owner, repo string, number int) ([]*gh.RepositoryCommit, error) {
	var all []*gh.RepositoryCommit
	opts := &gh.ListOptions{PerPage: 100}
	for {
		page, resp, err := c.gh.PullRequests.ListCommits(ctx, owner, repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("list commits of %s/%s#%d: %w", owner, repo, number, err)
		}
		all = append(all, page...)
		if resp.NextPage == 0 {
			return all, nil
		}
		opts.Page = resp.NextPage
	}
}

// Compare compares two commits (base...head).
func (c *Client) Compare(ctx context.Context, owner, repo, base, head string) (*gh.CommitsComparison, error) {
	cmp, _, err := c.gh.Repositories.CompareCommits(ctx, owner, repo, base, head, &gh.ListOptions{PerPage: 100})
	if err != nil {
		return nil, fmt.Errorf("compare %s...%s in %s/%s: %w", base, head, owner, repo, err)
	}
	return cmp, nil
}

// Repositories lists the repositories this installation may use.
func (c *Client) Repositories(ctx context.Context) ([]*gh.Repository, error) {
	var all []*gh.Repository
	opts := &gh.ListOptions{PerPage: 100}
	for {
		page, resp, err := c.gh.Apps.ListRepos(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list repositories of installation %d: %w", c.id, err)
		}
		all = append(all, page.Repositories...)
		if resp.NextPage == 0 {
			return all, nil
		}
		opts.Page = resp.NextPage
	}
}

// PullRequest reads a pull request.
func (c *Client) PullRequest(ctx context.Context, owner, repo string, number int) (forge.PullRequest, error) {
	p, _, err := c.gh.PullRequests.Get(ctx, owner, repo, number)
	if err != nil {
		return forge.PullRequest{}, fmt.Errorf("get %s/%s#%d: %w", owner, repo, number, err)
	}
	return pullRequestOf(p), nil
}

// BranchHead is the commit a branch points at.
func (c *Client) BranchHead(ctx context.Context, owner, repo, branch string) (string, error) {
	ref, _, err := c.gh.Git.GetRef(ctx, owner, repo, "heads/"+branch)
	if err != nil {
		return "", fmt.Errorf("get branch %s of %s/%s: %w", branch, owner, repo, err)
	}
	return ref.GetObject().GetSHA(), nil
}
