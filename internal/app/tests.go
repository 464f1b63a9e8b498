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
	Quarantine(ctx context.Context, r testagent.Repo, test, by string, pol policy.Policy) (string, error)
}

// quarantine is /ferry quarantine <test>: the test agent proposes it.
func (a *App) quarantine(ctx context.Context, r request, pol policy.Loaded, test string) (outcome, error) {
	if a.tester == nil {
		return refused("the test agent is not running here"), nil
	}
	repo := testagent.Repo{InstallationID: r.installation, ID: r.repoID, Owner: r.owner, Name: r.repo, DefaultBranch: r.branch}
	why, err := a.tester.Quarantine(ctx, repo, test, r.actor, pol.Policy)
	if err != nil || why != "" {
		return refused(why), err
	}
	return outcome{output: "proposed quarantining " + test}, nil
}

// workflowRun hands a completed workflow run of this repository to the
// test agent, under the default branch's policy; a paused repository's
// reports wait (GitHub keeps artifacts; a later run reads what is new).
func (a *App) workflowRun(ctx context.Context, _ event.Delivery, e any) error {
	wr, ok := e.(ghadapter.WorkflowRun)
	if !ok {
		return unexpected("workflow_run", e)
	}
	if wr.Fork {
		return nil // what a fork's code reports is the fork's to say: it quarantines nothing here
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
	return classify(a.tester.Ingest(ctx, r, testagent.Run{ID: wr.ID, Attempt: wr.Attempt, SHA: wr.HeadSHA,
		Workflow: wr.Name, Conclusion: wr.Conclusion}, pol.Policy))
}
