package github

import (
	"context"
	"fmt"

	gh "github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/forge"
)

// Promote creates the base branch at BaseAt when it is absent, points
// ferry's branch at the candidate (or, OnTop, at a commit of its content
// on Base's tip), and opens the pull request — or updates the one open for
// the branch, never opening a second. head is what ferry's branch holds.
func (c *Client) Promote(ctx context.Context, owner, repo string, p forge.Promotion) (number int, head string, created bool, err error) {
	unlock := c.app.locks.Lock(fmt.Sprintf("propose %d %s/%s %s", c.id, owner, repo, p.Branch))
	defer unlock()
	_, _, err = c.gh.Git.GetRef(ctx, owner, repo, "heads/"+p.Base)
	if Classify(err) == KindNotFound {
		ref := &gh.Reference{Ref: gh.String("refs/heads/" + p.Base), Object: &gh.GitObject{SHA: gh.String(p.BaseAt)}}
		_, _, err = c.gh.Git.CreateRef(ctx, owner, repo, ref)
		if Classify(err) == KindValidation {
			err = nil // created meanwhile (a retry, or a person): it records what runs either way
		}
	}
	if err != nil {
		return 0, "", false, fmt.Errorf("branch %s: %w", p.Base, err)
	}
	head = p.SHA
	if p.OnTop {
		if head, err = c.onTop(ctx, owner, repo, p); err != nil {
			return 0, "", false, err
		}
	}
	if err := c.pointBranch(ctx, owner, repo, p.Branch, head); err != nil {
		return 0, "", false, err
	}
	number, created, err = c.openOrUpdatePull(ctx, owner, repo, p.Branch, p.Base, p.Title, p.Body)
	return number, head, created, err
}

// onTop commits the candidate's content on the base's tip, with the
// candidate as second parent so its history comes along.
func (c *Client) onTop(ctx context.Context, owner, repo string, p forge.Promotion) (string, error) {
	base, _, err := c.gh.Git.GetRef(ctx, owner, repo, "heads/"+p.Base)
	if err != nil {
		return "", fmt.Errorf("get %s: %w", p.Base, err)
	}
	cand, _, err := c.gh.Git.GetCommit(ctx, owner, repo, p.SHA)
	if err != nil {
		return "", fmt.Errorf("get %s: %w", p.SHA, err)
	}
	commit, _, err := c.gh.Git.CreateCommit(ctx, owner, repo, &gh.Commit{Message: gh.String("Promote " + p.SHA + " to " + p.Base),
		Tree: &gh.Tree{SHA: cand.GetTree().SHA}, Parents: []*gh.Commit{{SHA: base.GetObject().SHA}, {SHA: cand.SHA}}}, nil)
	if err != nil {
		return "", fmt.Errorf("commit %s's content on %s: %w", p.SHA, p.Base, err)
	}
	return commit.GetSHA(), nil
}

// RestoreBranch makes branch record a commit's content again: a new commit
// with to's tree on top of the branch's tip, the branch moved to it without
// force — history a person merged stays. Nothing happens when the tip has
// that tree already (moved is false).
func (c *Client) RestoreBranch(ctx context.Context, owner, repo, branch, to, message string) (sha string, moved bool, err error) {
	ref, _, err := c.gh.Git.GetRef(ctx, owner, repo, "heads/"+branch)
	if err != nil {
		return "", false, fmt.Errorf("get %s: %w", branch, err)
	}
	tip, _, err := c.gh.Git.GetCommit(ctx, owner, repo, ref.GetObject().GetSHA())
	if err != nil {
		return "", false, fmt.Errorf("get the tip of %s: %w", branch, err)
	}
	want, _, err := c.gh.Git.GetCommit(ctx, owner, repo, to)
	if err != nil {
		return "", false, fmt.Errorf("get %s: %w", to, err)
	}
	if tip.GetTree().GetSHA() == want.GetTree().GetSHA() {
		return tip.GetSHA(), false, nil
	}
	commit, _, err := c.gh.Git.CreateCommit(ctx, owner, repo,
		&gh.Commit{Message: gh.String(message), Tree: &gh.Tree{SHA: want.GetTree().SHA}, Parents: []*gh.Commit{{SHA: tip.SHA}}}, nil)
	if err != nil {
		return "", false, fmt.Errorf("create the commit restoring %s: %w", branch, err)
	}
	ref.Object.SHA = commit.SHA
	if _, _, err := c.gh.Git.UpdateRef(ctx, owner, repo, ref, false); err != nil {
		return "", false, fmt.Errorf("move %s: %w", branch, err)
	}
	return commit.GetSHA(), true, nil
}

// ClosePull closes a pull request unmerged.
func (c *Client) ClosePull(ctx context.Context, owner, repo string, number int) error {
	_, _, err := c.gh.PullRequests.Edit(ctx, owner, repo, number, &gh.PullRequest{State: gh.String("closed")})
	if err != nil {
		return fmt.Errorf("close pull request #%d: %w", number, err)
	}
	return nil
}
