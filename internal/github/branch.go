package github

import (
	"context"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/forge"
)

// PushBranch commits the files on top of b.Tree's tree (as a child of
// b.Parent, or of b.Tree) through the Git Data API and points ferry's
// branch at the commit — created, or force-moved: the branch is ferry's
// alone. No pull request is opened. It returns the commit.
func (c *Client) PushBranch(ctx context.Context, owner, repo string, b forge.BranchCommit) (string, error) {
	unlock := c.app.locks.Lock(fmt.Sprintf("propose %d %s/%s %s", c.id, owner, repo, b.Branch))
	defer unlock()
	base, _, err := c.gh.Git.GetCommit(ctx, owner, repo, b.Tree)
	if err != nil {
		return "", fmt.Errorf("get commit %s: %w", b.Tree, err)
	}
	parent := base
	if b.Parent != "" && b.Parent != b.Tree {
		if parent, _, err = c.gh.Git.GetCommit(ctx, owner, repo, b.Parent); err != nil {
			return "", fmt.Errorf("get commit %s: %w", b.Parent, err)
		}
	}
	commit, err := c.commitFiles(ctx, owner, repo, parent, base.GetTree().GetSHA(), forge.ProposalCommit{Message: b.Message, Files: b.Files})
	if err != nil {
		return "", err
	}
	if err := c.pointBranch(ctx, owner, repo, b.Branch, commit.GetSHA()); err != nil {
		return "", err
	}
	return commit.GetSHA(), nil
}

// OpenPull opens the pull request from ferry's branch into base — or
// updates the one open already (title, and ferry's part of the body),
// never opening a second.
func (c *Client) OpenPull(ctx context.Context, owner, repo, branch, base, title, body string) (number int, created bool, err error) {
	unlock := c.app.locks.Lock(fmt.Sprintf("propose %d %s/%s %s", c.id, owner, repo, branch))
	defer unlock()
	return c.openOrUpdatePull(ctx, owner, repo, branch, base, title, body)
}

// Limits on what CI's runs on one commit are read for.
const (
	maxCIRuns        = 200      // check runs read
	maxAnnotated     = 20       // failed runs whose annotations are read
	maxRunOutput     = 64 << 10 // output kept per run
	maxWorkflowRuns  = 50       // workflow runs read
	annotationsPages = 2        // of 50 annotations
)

// CIRuns lists every App's latest check runs on a commit with their
// output; a failed run's annotations are read too.
func (c *Client) CIRuns(ctx context.Context, owner, repo, sha string) ([]forge.CIRun, error) {
	var out []forge.CIRun
	opts := &gh.ListCheckRunsOptions{Filter: gh.String("latest"), ListOptions: gh.ListOptions{PerPage: 100}}
	annotated := 0
	for len(out) < maxCIRuns {
		res, resp, err := c.gh.Checks.ListCheckRunsForRef(ctx, owner, repo, sha, opts)
		if err != nil {
			return nil, fmt.Errorf("check runs of %s: %w", sha, err)
		}
		for _, r := range res.CheckRuns {
			o := r.GetOutput()
			run := forge.CIRun{ID: r.GetID(), Name: r.GetName(), AppID: r.GetApp().GetID(), Status: r.GetStatus(), Conclusion: r.GetConclusion(),
				URL: r.GetHTMLURL(), Output: strings.Join([]string{o.GetTitle(), o.GetSummary(), o.GetText()}, "\n")}
			if r.GetConclusion() == "failure" && o.GetAnnotationsCount() > 0 && annotated < maxAnnotated {
				annotated++
				if run.Output, err = c.withAnnotations(ctx, owner, repo, r.GetID(), run.Output); err != nil {
					return nil, err
				}
			}
			run.Output = Truncate(run.Output, maxRunOutput)
			out = append(out, run)
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

func (c *Client) withAnnotations(ctx context.Context, owner, repo string, id int64, text string) (string, error) {
	var b strings.Builder
	b.WriteString(text)
	opts := &gh.ListOptions{PerPage: 50}
	for page := 0; page < annotationsPages; page++ {
		as, resp, err := c.gh.Checks.ListCheckRunAnnotations(ctx, owner, repo, id, opts)
		if err != nil {
			return "", fmt.Errorf("annotations of check run %d: %w", id, err)
		}
		for _, a := range as {
			fmt.Fprintf(&b, "\n%s:%d: %s %s", a.GetPath(), a.GetStartLine(), a.GetTitle(), a.GetMessage())
		}
		if resp.NextPage == 0 || b.Len() > maxRunOutput {
			break
		}
		opts.Page = resp.NextPage
	}
	return b.String(), nil
}

// WorkflowRuns lists the GitHub Actions workflow runs on a commit (at most
// 50).
func (c *Client) WorkflowRuns(ctx context.Context, owner, repo, sha string) ([]forge.WorkflowRun, error) {
	runs, _, err := c.gh.Actions.ListRepositoryWorkflowRuns(ctx, owner, repo, &gh.ListWorkflowRunsOptions{HeadSHA: sha,
		ListOptions: gh.ListOptions{PerPage: maxWorkflowRuns}})
	if err != nil {
		return nil, fmt.Errorf("workflow runs of %s: %w", sha, err)
	}
	out := make([]forge.WorkflowRun, 0, len(runs.WorkflowRuns))
	for _, r := range runs.WorkflowRuns {
		out = append(out, forge.WorkflowRun{ID: r.GetID(), Name: r.GetName(), Attempt: r.GetRunAttempt(), Status: r.GetStatus(),
			Conclusion: r.GetConclusion(), URL: r.GetHTMLURL()})
	}
	return out, nil
}
