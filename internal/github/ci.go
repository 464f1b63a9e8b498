package github

import (
	"context"
	"fmt"
	"net/url"

	gh "github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/deploygate"
)

// RequiredChecks returns the check names branch protection requires on a
// branch. known is false when the branch is not protected, requires none,
// or the App may not read its protection: the caller then decides from
// other sources, never "nothing is required".
func (c *Client) RequiredChecks(ctx context.Context, owner, repo, branch string) (names []string, known bool, err error) {
	// Decoded here: go-github v60's Branch lacks "protection".
	u := fmt.Sprintf("repos/%s/%s/branches/%s", owner, repo, url.PathEscape(branch))
	req, err := c.gh.NewRequest("GET", u, nil)
	if err != nil {
		return nil, false, err
	}
	var b struct {
		Protected  bool `json:"protected"`
		Protection *struct {
			RequiredStatusChecks *struct {
				Contexts []string `json:"contexts"`
				Checks   []struct {
					Context string `json:"context"`
				} `json:"checks"`
			} `json:"required_status_checks"`
		} `json:"protection"`
	}
	if _, err := c.gh.Do(ctx, req, &b); err != nil {
		if k := Classify(err); k == KindNotFound || k == KindForbidden {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("branch %s of %s/%s: %w", branch, owner, repo, err)
	}
	if !b.Protected || b.Protection == nil || b.Protection.RequiredStatusChecks == nil {
		return nil, false, nil
	}
	rs := b.Protection.RequiredStatusChecks
	seen := map[string]bool{}
	for _, n := range rs.Contexts {
		seen[n] = true
		names = append(names, n)
	}
	for _, ch := range rs.Checks {
		if !seen[ch.Context] {
			seen[ch.Context] = true
			names = append(names, ch.Context)
		}
	}
	return names, len(names) > 0, nil
}

// CommitChecks reads what CI reported on a commit: its check runs, commit
// statuses and check suites (all pages).
func (c *Client) CommitChecks(ctx context.Context, owner, repo, sha string) (deploygate.Observed, error) {
	var obs deploygate.Observed
	runs := &gh.ListCheckRunsOptions{Filter: gh.String("all"), ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		res, resp, err := c.gh.Checks.ListCheckRunsForRef(ctx, owner, repo, sha, runs)
		if err != nil {
			return obs, fmt.Errorf("check runs of %s: %w", sha, err)
		}
		for _, r := range res.CheckRuns {
			obs.Runs = append(obs.Runs, deploygate.CheckRun{ID: r.GetID(), Name: r.GetName(), AppID: r.GetApp().GetID(),
				Status: r.GetStatus(), Conclusion: r.GetConclusion()})
		}
		if resp.NextPage == 0 {
			break
		}
		runs.Page = resp.NextPage
	}
	suites := &gh.ListCheckSuiteOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		res, resp, err := c.gh.Checks.ListCheckSuitesForRef(ctx, owner, repo, sha, suites)
		if err != nil {
			return obs, fmt.Errorf("check suites of %s: %w", sha, err)
		}
		for _, s := range res.CheckSuites {
			obs.Suites = append(obs.Suites, deploygate.Suite{AppID: s.GetApp().GetID(), App: s.GetApp().GetSlug(),
				Status: s.GetStatus(), Conclusion: s.GetConclusion()})
		}
		if resp.NextPage == 0 {
			break
		}
		suites.Page = resp.NextPage
	}
	statuses := &gh.ListOptions{PerPage: 100}
	for {
		cs, resp, err := c.gh.Repositories.GetCombinedStatus(ctx, owner, repo, sha, statuses)
		if err != nil {
			return obs, fmt.Errorf("statuses of %s: %w", sha, err)
		}
		for _, s := range cs.Statuses {
			obs.Statuses = append(obs.Statuses, deploygate.Status{Context: s.GetContext(), State: s.GetState()})
		}
		if resp.NextPage == 0 {
			return obs, nil
		}
		statuses.Page = resp.NextPage
	}
}

// HeadAuthors are the GitHub logins of the author and committer of a pull
// request's head commit (GitHub lists its commits oldest first).
func (c *Client) HeadAuthors(ctx context.Context, owner, repo string, number int) ([]string, error) {
	commits, err := c.PullRequestCommits(ctx, owner, repo, number)
	if err != nil || len(commits) == 0 {
		return nil, err
	}
	head := commits[len(commits)-1]
	var out []string
	for _, l := range []string{head.GetAuthor().GetLogin(), head.GetCommitter().GetLogin()} {
		if l != "" && (len(out) == 0 || out[0] != l) {
			out = append(out, l)
		}
	}
	return out, nil
}
