package app

import (
	"context"

	"github.com/ferry-ci/ferry/internal/control"
	"github.com/ferry-ci/ferry/internal/event"
	ghadapter "github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/testagent"
)

// Tester is the test agent: it learns from CI's test reports.
type Tester interface {
	Ingest(ctx context.Context, r testagent.Repo, run testagent.Run, pol policy.Policy) error
}

// workflowRun hands a completed workflow run of this repository to the
// test agent, under the default branch's policy; a paused repository's
// reports wait (GitHub keeps artifacts; a later run reads what is new).
func (a *App) workflowRun(ctx context.Context, _ event.Delivery, e any) error {
	wr, ok := e.(ghadapter.WorkflowRun)
	if !ok {
		return unexpected("workflow_run", e)
	}
	if p, err := a.control.Paused(ctx, wr.Repo.ID, control.AllEnvironments); err != nil || p != nil {
		return err
	}
	pol, err := a.defaultPolicy(ctx, wr.Repo.InstallationID, wr.Repo.Owner, wr.Repo.Name, wr.Repo.DefaultBranch)
	if err != nil || !pol.Usable() {
		return classify(err)
	}
	r := testagent.Repo{InstallationID: wr.Repo.InstallationID, ID: wr.Repo.ID, Owner: wr.Repo.Owner, Name: wr.Repo.Name,
		DefaultBranch: wr.Repo.DefaultBranch}
	return classify(a.tester.Ingest(ctx, r, testagent.Run{ID: wr.ID, Attempt: wr.Attempt, SHA: wr.HeadSHA}, pol.Policy))
}
