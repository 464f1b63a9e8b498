package github

import (
	"context"
	"fmt"
	"sort"

	gh "github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/forge"
)

// Propose commits the files on top of Base onto Branch (created, or moved
// there) through the Git Data API and opens the pull request — or updates
// the one already open for Branch, never opening a second.
func (c *Client) Propose(ctx context.Context, owner, repo string, p forge.Proposal) (number int, created bool, err error) {
	unlock := c.app.locks.Lock(fmt.Sprintf("propose %d %s/%s %s", c.id, owner, repo, p.Branch))
	defer unlock()
	base, _, err := c.gh.Git.GetRef(ctx, owner, repo, "heads/"+p.Base)
	if err != nil {
		return 0, false, fmt.Errorf("get base %s: %w", p.Base, err)
	}
	baseCommit, _, err := c.gh.Git.GetCommit(ctx, owner, repo, base.GetObject().GetSHA())
	if err != nil {
		return 0, false, fmt.Errorf("get base commit: %w", err)
	}
	commits := p.Commits
	if len(commits) == 0 {
		commits = []forge.ProposalCommit{{Message: p.Message, Files: p.Files}}
	}
	commit := baseCommit
	for _, pc := range commits {
		if commit, err = c.commitFiles(ctx, owner, repo, commit, commit.GetTree().GetSHA(), pc); err != nil {
			return 0, false, err
		}
	}
	if err := c.pointBranch(ctx, owner, repo, p.Branch, commit.GetSHA()); err != nil {
		return 0, false, err
	}
	return c.openOrUpdatePull(ctx, owner, repo, p.Branch, p.Base, p.Title, p.Body)
}

// commitFiles commits the files on top of baseTree (the parent's tree, or
// another commit's) with parent as the one parent.
func (c *Client) commitFiles(ctx context.Context, owner, repo string, parent *gh.Commit, baseTree string, p forge.ProposalCommit) (*gh.Commit, error) {
	paths := make([]string, 0, len(p.Files))
	for path := range p.Files {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	var entries []*gh.TreeEntry
	for _, path := range paths {
		entries = append(entries, &gh.TreeEntry{Path: gh.String(path), Mode: gh.String("100644"),
			Type: gh.String("blob"), Content: gh.String(p.Files[path])})
	}
	tree, _, err := c.gh.Git.CreateTree(ctx, owner, repo, baseTree, entries)
	if err != nil {
		return nil, fmt.Errorf("create tree: %w", err)
	}
	commit, _, err := c.gh.Git.CreateCommit(ctx, owner, repo,
		&gh.Commit{Message: gh.String(p.Message), Tree: tree, Parents: []*gh.Commit{{SHA: parent.SHA}}}, nil)
	if err != nil {
		return nil, fmt.Errorf("create commit: %w", err)
	}
	return commit, nil
}

// pointBranch creates ferry's branch or force-moves it: it is ferry's
// alone, rebuilt from the base each time.
func (c *Client) pointBranch(ctx context.Context, owner, repo, branch, sha string) error {
	ref := &gh.Reference{Ref: gh.String("refs/heads/" + branch), Object: &gh.GitObject{SHA: gh.String(sha)}}
	_, _, err := c.gh.Git.GetRef(ctx, owner, repo, "heads/"+branch)
	switch {
	case err == nil:
		_, _, err = c.gh.Git.UpdateRef(ctx, owner, repo, ref, true)
	case Classify(err) == KindNotFound:
		_, _, err = c.gh.Git.CreateRef(ctx, owner, repo, ref)
	}
	if err != nil {
		return fmt.Errorf("point %s at %s: %w", branch, sha, err)
	}
	return nil
}

func (c *Client) openOrUpdatePull(ctx context.Context, owner, repo, branch, base, title, generated string) (int, bool, error) {
	open, _, err := c.gh.PullRequests.List(ctx, owner, repo, &gh.PullRequestListOptions{
		State: "open", Head: owner + ":" + branch, Base: base})
	if err != nil {
		return 0, false, fmt.Errorf("find open pull request for %s: %w", branch, err)
	}
	body := Truncate(generated, MaxText)
	if len(open) > 0 {
		n := open[0].GetNumber()
		// A person's words around ferry's part of the body stay.
		body = Truncate(forge.MergeBody(open[0].GetBody(), generated), MaxText)
		_, _, err := c.gh.PullRequests.Edit(ctx, owner, repo, n, &gh.PullRequest{Title: gh.String(title), Body: &body})
		if err != nil {
			return 0, false, fmt.Errorf("update pull request #%d: %w", n, err)
		}
		return n, false, nil
	}
	pr, _, err := c.gh.PullRequests.Create(ctx, owner, repo, &gh.NewPullRequest{
		Title: gh.String(title), Head: gh.String(branch), Base: gh.String(base), Body: &body})
	if err != nil {
		return 0, false, fmt.Errorf("open pull request for %s: %w", branch, err)
	}
	return pr.GetNumber(), true, nil
}

// Proposals lists the pull requests (open, closed or merged) from ferry's
// branch into base, newest first (up to 100).
func (c *Client) Proposals(ctx context.Context, owner, repo, branch, base string) ([]forge.PullRequest, error) {
	pulls, _, err := c.gh.PullRequests.List(ctx, owner, repo, &gh.PullRequestListOptions{State: "all", Head: owner + ":" + branch,
		Base: base, Sort: "created", Direction: "desc", ListOptions: gh.ListOptions{PerPage: 100}})
	if err != nil {
		return nil, fmt.Errorf("find pull requests from %s: %w", branch, err)
	}
	out := make([]forge.PullRequest, 0, len(pulls))
	for _, p := range pulls {
		out = append(out, pullRequestOf(p))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number > out[j].Number })
	return out, nil
}
