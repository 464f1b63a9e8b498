package promoteagent

import (
	"context"
	"slices"
	"strings"

	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/promotion"
)

// changes are the commits going out with what ferry knows of each: the
// pull request's title and author (looked up within MaxLookups), its risk,
// its approvals, how it ran where the environment promotes from, and
// where else it was rolled back.
func (a *Agent) changes(ctx context.Context, gh GitHub, p proposal) ([]promotion.Change, error) {
	lookups := a.cfg.MaxLookups
	out := make([]promotion.Change, 0, len(p.commits))
	for _, c := range p.commits {
		ch := promotion.Change{Commit: c, Title: c.Subject, Author: authorOf(c.Author)}
		if c.Title != "" {
			ch.Title = c.Title
		}
		ch.PR = 0 // a number in a message is a claim: only GitHub's answer names the pull request
		if lookups > 0 {
			lookups--
			pr, ok, err := a.pullRequestOf(ctx, gh, p.repo, c)
			if err != nil {
				return nil, err
			}
			if ok {
				ch.PR, ch.Title, ch.Author = pr.Number, pr.Title, pr.Author
			}
		}
		ch.Commit.PR = ch.PR
		if err := a.signals(ctx, p, &ch); err != nil {
			return nil, err
		}
		out = append(out, ch)
	}
	return out, nil
}

// pullRequestOf is the pull request a commit of the default branch came
// from: the one its message names if GitHub says that pull request was
// merged into the default branch as this very commit, else the merged one
// GitHub associates with the commit. A message naming another pull request
// (or none that exists) borrows nothing — not its title, nor its risk.
func (a *Agent) pullRequestOf(ctx context.Context, gh GitHub, r Repo, c promotion.Commit) (forge.PullRequest, bool, error) {
	if c.PR > 0 {
		pr, err := gh.PullRequest(ctx, r.Owner, r.Name, c.PR)
		switch {
		case github.Classify(err) == github.KindNotFound:
		case err != nil:
			return pr, false, err
		case pr.Merged && pr.BaseRef == r.DefaultBranch && pr.MergeCommitSHA == c.SHA:
			return pr, true, nil
		}
	}
	prs, err := gh.CommitPullRequests(ctx, r.Owner, r.Name, c.SHA)
	if err != nil {
		return forge.PullRequest{}, false, err
	}
	for _, pr := range prs {
		if pr.Merged && pr.BaseRef == r.DefaultBranch {
			return pr, true, nil
		}
	}
	return forge.PullRequest{}, false, nil
}

// signals fills what ferry recorded about a change.
func (a *Agent) signals(ctx context.Context, p proposal, ch *promotion.Change) error {
	cr, err := a.deps.Risks.RiskOf(ctx, p.repo.ID, ch.PR, ch.SHA)
	if err != nil {
		return err
	}
	ch.Assessed, ch.Level, ch.Score, ch.Top = cr.Assessed, cr.Level, cr.Score, cr.Top
	ch.Proposal = promotion.Plan{Level: cr.Level, Strategy: cr.Strategy, Watch: cr.Watch, NeedHuman: cr.NeedHuman}
	if ch.PR > 0 {
		approvals, err := a.deps.Control.Approvals(ctx, p.repo.ID, ch.PR)
		if err != nil {
			return err
		}
		for _, ap := range approvals {
			if !slices.Contains(ch.Approvals, ap.By) {
				ch.Approvals = append(ch.Approvals, ap.By)
			}
		}
	}
	if src, ok := p.sources[ch.SHA]; ok {
		ch.Source = &src
	}
	for env, ds := range p.deploys {
		if slices.ContainsFunc(ds, func(d deploy.Deploy) bool { return d.SHA == ch.SHA && d.EndCause.RolledBack() }) {
			ch.RolledBackIn = append(ch.RolledBackIn, env)
		}
	}
	slices.Sort(ch.RolledBackIn)
	return nil
}

// authorOf names a commit's author by its email: GitHub's no-reply
// address holds the login; another address, its local part.
func authorOf(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if !ok {
		return email
	}
	if domain == "users.noreply.github.com" {
		if _, login, ok := strings.Cut(local, "+"); ok {
			return login
		}
	}
	return local
}
