package github

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/forge"
)

// ErrBranchTaken: ferry's branch (or a pull request from it) is not
// where ferry left it — someone else's is there, and ferry leaves it be.
var ErrBranchTaken = errors.New("the branch is not ferry's")

// ErrTooManyCIRuns: a commit has more check runs than ferry reads, so
// their verdict is not yet judged.
var ErrTooManyCIRuns = fmt.Errorf("more than %d check runs", maxCIRuns)

// PushBranch commits the files on top of b.Tree's tree (as a child of
// b.Parent, or of b.Tree) through the Git Data API and points ferry's
// branch at the commit: created when absent, moved only from commit from
// (where ferry last left it). A branch already at the very commit this
// would make (same parent, same tree: a push whose answer was lost) is
// adopted, not committed to again; a branch anywhere else is someone's,
// and PushBranch returns ErrBranchTaken without touching it. No pull
// request is opened. It returns the commit.
func (c *Client) PushBranch(ctx context.Context, owner, repo string, b forge.BranchCommit, from string) (string, error) {
	unlock := c.app.locks.Lock(fmt.Sprintf("propose %d %s/%s %s", c.id, owner, repo, b.Branch))
	defer unlock()
	cur, err := c.branchAt(ctx, owner, repo, b.Branch)
	if err != nil {
		return "", err
	}
	parent, tree, err := c.branchTree(ctx, owner, repo, b)
	if err != nil {
		return "", err
	}
	if cur != "" && (from == "" || cur != from) {
		if c.madeBy(ctx, owner, repo, cur, parent.GetSHA(), tree.GetSHA()) {
			return cur, nil
		}
		return "", fmt.Errorf("push %s: at %s: %w", b.Branch, cur, ErrBranchTaken)
	}
	commit, _, err := c.gh.Git.CreateCommit(ctx, owner, repo,
		&gh.Commit{Message: gh.String(b.Message), Tree: tree, Parents: []*gh.Commit{{SHA: parent.SHA}}}, nil)
	if err != nil {
		return "", fmt.Errorf("create commit: %w", err)
	}
	ref := &gh.Reference{Ref: gh.String("refs/heads/" + b.Branch), Object: &gh.GitObject{SHA: commit.SHA}}
	if cur == "" {
		_, _, err = c.gh.Git.CreateRef(ctx, owner, repo, ref)
	} else {
		// A round's commit descends from the last: fast-forward only, so a
		// branch moved meanwhile is refused by GitHub itself.
		_, _, err = c.gh.Git.UpdateRef(ctx, owner, repo, ref, b.Parent != from)
	}
	if err != nil {
		return "", fmt.Errorf("point %s at %s: %w", b.Branch, commit.GetSHA(), err)
	}
	return commit.GetSHA(), nil
}

// branchTree is the parent of the commit b makes and its tree (trees are
// content-addressed: making one twice makes the same).
func (c *Client) branchTree(ctx context.Context, owner, repo string, b forge.BranchCommit) (*gh.Commit, *gh.Tree, error) {
	base, _, err := c.gh.Git.GetCommit(ctx, owner, repo, b.Tree)
	if err != nil {
		return nil, nil, fmt.Errorf("get commit %s: %w", b.Tree, err)
	}
	parent := base
	if b.Parent != "" && b.Parent != b.Tree {
		if parent, _, err = c.gh.Git.GetCommit(ctx, owner, repo, b.Parent); err != nil {
			return nil, nil, fmt.Errorf("get commit %s: %w", b.Parent, err)
		}
	}
	paths := make([]string, 0, len(b.Files))
	for p := range b.Files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	entries := make([]*gh.TreeEntry, 0, len(paths))
	for _, p := range paths {
		entries = append(entries, &gh.TreeEntry{Path: gh.String(p), Mode: gh.String("100644"), Type: gh.String("blob"), Content: gh.String(b.Files[p])})
	}
	tree, _, err := c.gh.Git.CreateTree(ctx, owner, repo, base.GetTree().GetSHA(), entries)
	if err != nil {
		return nil, nil, fmt.Errorf("create tree: %w", err)
	}
	return parent, tree, nil
}

// madeBy reports whether commit sha has exactly parent as its parent and
// tree as its tree.
func (c *Client) madeBy(ctx context.Context, owner, repo, sha, parent, tree string) bool {
	got, _, err := c.gh.Git.GetCommit(ctx, owner, repo, sha)
	return err == nil && got.GetTree().GetSHA() == tree && len(got.Parents) == 1 && got.Parents[0].GetSHA() == parent
}

// branchAt is the commit branch points at ("" when there is no branch).
func (c *Client) branchAt(ctx context.Context, owner, repo, branch string) (string, error) {
	ref, _, err := c.gh.Git.GetRef(ctx, owner, repo, "heads/"+branch)
	switch {
	case Classify(err) == KindNotFound:
		return "", nil
	case err != nil:
		return "", fmt.Errorf("get branch %s: %w", branch, err)
	}
	return ref.GetObject().GetSHA(), nil
}

// OpenPull opens the pull request from ferry's branch into base — or
// updates the one ferry opened already (title, and ferry's part of the
// body), never opening a second. One opened by someone else from the
// branch is left alone: ErrBranchTaken.
func (c *Client) OpenPull(ctx context.Context, owner, repo, branch, base, title, body string) (number int, created bool, err error) {
	unlock := c.app.locks.Lock(fmt.Sprintf("propose %d %s/%s %s", c.id, owner, repo, branch))
	defer unlock()
	open, _, err := c.gh.PullRequests.List(ctx, owner, repo, &gh.PullRequestListOptions{State: "open", Head: owner + ":" + branch, Base: base})
	if err != nil {
		return 0, false, fmt.Errorf("find open pull request for %s: %w", branch, err)
	}
	bot := c.app.BotLogin(ctx)
	if bot == "" && len(open) > 0 {
		return 0, false, fmt.Errorf("whose is #%d from %s: the App's bot login is unknown", open[0].GetNumber(), branch)
	}
	for _, p := range open {
		if !strings.EqualFold(p.GetUser().GetLogin(), bot) {
			return 0, false, fmt.Errorf("#%d from %s: %w", p.GetNumber(), branch, ErrBranchTaken)
		}
	}
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
			return out, nil
		}
		opts.Page = resp.NextPage
	}
	// More than ferry reads: a verdict from part of them would be a guess.
	return out, fmt.Errorf("check runs of %s: %w", sha, ErrTooManyCIRuns)
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
