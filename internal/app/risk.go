package app

import (
	"context"
	"time"

	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/forge"
	ghadapter "github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/riskagent"
)

// Assessor is the risk agent.
type Assessor interface {
	PullRequest(ctx context.Context, s riskagent.Subject, pol policy.Loaded) error
	Push(ctx context.Context, s riskagent.Subject, commits []riskagent.PushCommit, pol policy.Loaded) error
	PublishWaiting(ctx context.Context, repositoryID int64) error
	ProposedDeploy(ctx context.Context, repositoryID int64, number int, sha string) (riskagent.Proposal, error)
	Learn(ctx context.Context, s riskagent.Subject, branch string, p policy.Policy) error
}

// Heads remembers who pushed each head of a pull request: nobody approves
// what they pushed.
type Heads interface {
	RecordPush(ctx context.Context, repositoryID int64, number int, head, login string, at time.Time) error
	Pushers(ctx context.Context, repositoryID int64, number int, head string) ([]string, error)
}

// routeRisk adds the events the risk agent acts on.
func (a *App) routeRisk() {
	for _, action := range []string{"opened", "synchronize", "reopened", "ready_for_review"} {
		a.routes[route{"pull_request", action}] = a.pullRequest
	}
	a.routes[route{"push", anyAction}] = a.push
}

func (a *App) pullRequest(ctx context.Context, d event.Delivery, e any) error {
	c, ok := e.(ghadapter.PullRequestChange)
	if !ok {
		return unexpected("pull_request", e)
	}
	if c.PR.State != "open" {
		return nil // closed before the job ran
	}
	s := subjectOf(d.ID, c.Repo, c.PR)
	if s.EventAt.IsZero() {
		s.EventAt = d.ReceivedAt
	}
	if a.heads != nil && c.Action != "ready_for_review" {
		// The sender of opened, reopened and synchronize put this head there.
		if err := a.heads.RecordPush(ctx, s.RepositoryID, s.Number, s.HeadSHA, c.Sender.Login, d.ReceivedAt); err != nil {
			return err
		}
	}
	if err := a.assess(ctx, s); err != nil {
		return classify(err)
	}
	return classify(a.autoTests(ctx, c))
}

// assess assesses a pull request under the policy at its base commit.
func (a *App) assess(ctx context.Context, s riskagent.Subject) error {
	pol, err := a.policyAt(ctx, s.InstallationID, s.Owner, s.Repo, s.BaseSHA, s.BaseRef)
	if err != nil {
		return err
	}
	return a.assessor.PullRequest(ctx, s, pol)
}

func subjectOf(id string, r ghadapter.Repo, pr forge.PullRequest) riskagent.Subject {
	return riskagent.Subject{ID: id, InstallationID: r.InstallationID, RepositoryID: r.ID, Owner: r.Owner, Repo: r.Name,
		Number: pr.Number, BaseRef: pr.BaseRef, BaseSHA: pr.BaseSHA, HeadSHA: pr.HeadSHA, EventAt: pr.UpdatedAt,
		Labels: pr.Labels, CloneURL: r.CloneURL, Title: pr.Title}
}

// push assesses pushes to the default branch (under the policy at the
// commit before them); other branches are assessed through their pull
// requests.
func (a *App) push(ctx context.Context, d event.Delivery, e any) error {
	p, ok := e.(ghadapter.Push)
	if !ok {
		return unexpected("push", e)
	}
	if p.Branch == "" || p.Branch != p.Repo.DefaultBranch || p.Deleted {
		return nil
	}
	s := riskagent.Subject{ID: d.ID, InstallationID: p.Repo.InstallationID, RepositoryID: p.Repo.ID, Owner: p.Repo.Owner,
		Repo: p.Repo.Name, BaseRef: p.Branch, BaseSHA: p.Before, HeadSHA: p.After, EventAt: d.ReceivedAt}
	commits := make([]riskagent.PushCommit, len(p.Commits))
	for i, c := range p.Commits {
		commits[i] = riskagent.PushCommit{SHA: c.SHA, Message: c.Message, At: c.At, Paths: c.Paths}
	}
	var pol policy.Loaded
	if !riskagent.CreatesBranch(s) {
		var err error
		if pol, err = a.policyAt(ctx, s.InstallationID, s.Owner, s.Repo, s.BaseSHA, s.BaseRef); err != nil {
			return classify(err)
		}
	}
	if err := a.assessor.Push(ctx, s, commits, pol); err != nil {
		return classify(err)
	}
	if err := a.optimizeOnPush(ctx, p); err != nil || a.releaser == nil {
		return classify(err)
	}
	return classify(a.updateRelease(ctx, d, p))
}

// classify marks errors retrying cannot fix (GitHub said not found,
// forbidden or invalid) as permanent.
func classify(err error) error {
	if err == nil || ghadapter.Retryable(err) {
		return err
	}
	return event.Permanent(err)
}
