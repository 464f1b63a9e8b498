package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/event"
	ghadapter "github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/orchestrator"
)

// Assessor is the risk agent.
type Assessor interface {
	PullRequest(ctx context.Context, s orchestrator.Subject) error
	Push(ctx context.Context, s orchestrator.Subject, commits []orchestrator.PushCommit) error
	PublishWaiting(ctx context.Context, repositoryID int64) error
	ProposedDeploy(ctx context.Context, repositoryID int64, number int, sha string) (orchestrator.Proposal, error)
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

func (a *App) pullRequest(ctx context.Context, d event.Delivery, payload any) error {
	e, ok := payload.(*github.PullRequestEvent)
	if !ok {
		return event.Permanent(fmt.Errorf("pull_request: unexpected payload %T", payload))
	}
	pr := e.GetPullRequest()
	if pr.GetState() != "open" {
		return nil // closed before the job ran
	}
	s := orchestrator.Subject{
		ID: d.ID, InstallationID: e.GetInstallation().GetID(), RepositoryID: e.GetRepo().GetID(),
		Owner: e.GetRepo().GetOwner().GetLogin(), Repo: e.GetRepo().GetName(), Number: pr.GetNumber(),
		BaseRef: pr.GetBase().GetRef(), BaseSHA: pr.GetBase().GetSHA(), HeadSHA: pr.GetHead().GetSHA(),
		EventAt: pr.GetUpdatedAt().Time, CloneURL: e.GetRepo().GetCloneURL(),
	}
	if s.EventAt.IsZero() {
		s.EventAt = d.ReceivedAt
	}
	for _, l := range pr.Labels {
		s.Labels = append(s.Labels, l.GetName())
	}
	if a.heads != nil && e.GetAction() != "ready_for_review" {
		// The sender of opened, reopened and synchronize put this head there.
		if err := a.heads.RecordPush(ctx, s.RepositoryID, s.Number, s.HeadSHA, e.GetSender().GetLogin(), d.ReceivedAt); err != nil {
			return err
		}
	}
	return classify(a.assessor.PullRequest(ctx, s))
}

// push assesses pushes to the default branch; other branches are assessed
// through their pull requests.
func (a *App) push(ctx context.Context, d event.Delivery, payload any) error {
	e, ok := payload.(*github.PushEvent)
	if !ok {
		return event.Permanent(fmt.Errorf("push: unexpected payload %T", payload))
	}
	branch, isBranch := strings.CutPrefix(e.GetRef(), "refs/heads/")
	if !isBranch || branch != e.GetRepo().GetDefaultBranch() || e.GetDeleted() {
		return nil
	}
	s := orchestrator.Subject{
		ID: d.ID, InstallationID: e.GetInstallation().GetID(), RepositoryID: e.GetRepo().GetID(),
		Owner: e.GetRepo().GetOwner().GetLogin(), Repo: e.GetRepo().GetName(),
		BaseRef: branch, BaseSHA: e.GetBefore(), HeadSHA: e.GetAfter(), EventAt: d.ReceivedAt,
	}
	if s.Owner == "" { // push payloads name the owner "name" in older shapes
		s.Owner = e.GetRepo().GetOwner().GetName()
	}
	var commits []orchestrator.PushCommit
	for _, c := range e.Commits {
		paths := append(append(append([]string{}, c.Added...), c.Modified...), c.Removed...)
		commits = append(commits, orchestrator.PushCommit{SHA: c.GetID(), Message: c.GetMessage(), At: c.GetTimestamp().Time, Paths: paths})
	}
	return classify(a.assessor.Push(ctx, s, commits))
}

// classify marks errors retrying cannot fix (GitHub said not found,
// forbidden or invalid) as permanent.
func classify(err error) error {
	if err == nil || ghadapter.Retryable(err) {
		return err
	}
	return event.Permanent(err)
}
