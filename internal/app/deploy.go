package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/command"
	"github.com/ferry-ci/ferry/internal/deployagent"
	"github.com/ferry-ci/ferry/internal/event"
	ghadapter "github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/md"
	"github.com/ferry-ci/ferry/internal/orchestrator"
	"github.com/ferry-ci/ferry/internal/store"
)

// Deployer is the deploy agent.
type Deployer interface {
	Request(ctx context.Context, r deployagent.Request) (store.Deploy, error)
	AutoDeploy(ctx context.Context, r deployagent.Request, idPrefix string) ([]store.Deploy, string, error)
	RollbackRunning(ctx context.Context, repositoryID int64, environment, by string, force bool) (store.Deploy, error)
}

// deploy runs /ferry deploy and /ferry rollback: the agent records the
// deploy and its job; the answer says how it will go.
func (a *App) deploy(ctx context.Context, r request, pr *ghadapter.PullRequest, d audit.Decision, c command.Command) (outcome, error) {
	env := c.Arg(0)
	if a.deployer == nil {
		return refused("no deploy target configured for " + env), nil
	}
	req := deployagent.Request{ID: d.ID, InstallationID: r.installation, RepositoryID: r.repoID, Owner: r.owner, Repo: r.repo,
		// The head the person saw when they asked, not whatever was pushed since.
		DefaultBranch: r.branch, Environment: env, SHA: r.headSHA, Ref: pr.HeadRef, Number: r.number, Actor: r.actor,
		Rollback: c.Verb() == "rollback", Hotfix: c.Flags["--hotfix"]}
	if req.Rollback {
		if out, done, err := a.rollbackRunning(ctx, r, env, c.Flags["--force"]); done || err != nil {
			return out, err
		}
	}
	p, err := a.proposal(ctx, r, pr, d.ID)
	if err != nil {
		return outcome{}, err
	}
	req.Proposed, req.Watch, req.NeedHuman = p.Strategy, p.Watch, p.NeedHuman
	dep, err := a.deployer.Request(ctx, req)
	if ref, ok := deployagent.AsRefusal(err); ok {
		// The person learns what they can do; the operator's details are
		// in the log and the agent's audit row.
		return refused(ref.Public), nil
	}
	switch {
	case errors.Is(err, deployagent.ErrNoTarget):
		return refused("no deploy target configured for " + env + " (environments: in " + ".github/ferry.yml)"), nil
	case err != nil:
		return outcome{}, err
	}
	what := fmt.Sprintf("%s %s to %s with **%s** (%s)", dep.Kind, md.Code(audit.Short(dep.SHA)), md.Code(dep.Environment),
		md.Text(dep.Strategy), md.Text(dep.Reasons))
	return outcome{output: "queued " + dep.ID + ": " + dep.Strategy, reply: "🚀 " + what + " — GitHub's deployment shows progress."}, nil
}

// rollbackRunning rolls back a deploy running there (held, or still rolling
// out) in place: a new rollback would wait behind it. done: answered.
func (a *App) rollbackRunning(ctx context.Context, r request, env string, force bool) (outcome, bool, error) {
	running, err := a.deployer.RollbackRunning(ctx, r.repoID, env, r.actor, force)
	if ref, ok := deployagent.AsRefusal(err); ok {
		return refused(ref.Public), true, nil
	}
	switch {
	case err == nil:
		return outcome{output: "asked " + running.ID + " to roll back",
			reply: "🚀 rolling back the running deploy " + md.Code(running.ID) + " in " + md.Code(env)}, true, nil
	case errors.Is(err, deployagent.ErrNotRunning):
		return outcome{}, false, nil
	}
	return outcome{}, true, err
}

// proposal is how ferry's assessment of the commit routes its deploy. A
// pull request ferry has not assessed at its current head is assessed now;
// a commit that stays unassessed needs a human.
func (a *App) proposal(ctx context.Context, r request, pr *ghadapter.PullRequest, id string) (orchestrator.Proposal, error) {
	p, err := a.assessor.ProposedDeploy(ctx, r.repoID, r.number, r.headSHA)
	if err != nil || p.Assessed {
		return p, err
	}
	if pr != nil && pr.HeadSHA == r.headSHA {
		if err := a.assessor.PullRequest(ctx, a.subject(r, pr, "assess-"+id)); err != nil {
			return p, err
		}
		if p, err = a.assessor.ProposedDeploy(ctx, r.repoID, r.number, r.headSHA); err != nil || p.Assessed {
			return p, err
		}
	}
	p.NeedHuman = []string{"ferry has not assessed " + audit.Short(r.headSHA)}
	return p, nil
}

// checkSuiteCompleted deploys the default branch where policy deploys
// automatically, once all of its required checks passed: any suite that
// completes asks again; ferry's own never counts.
func (a *App) checkSuiteCompleted(ctx context.Context, d event.Delivery, payload any) error {
	e, ok := payload.(*github.CheckSuiteEvent)
	if !ok {
		return event.Permanent(fmt.Errorf("check_suite: unexpected payload %T", payload))
	}
	cs := e.GetCheckSuite()
	if cs.GetApp().GetID() == a.appID && a.appID != 0 {
		return nil // ferry's own suite is not CI
	}
	if cs.GetConclusion() != "success" && cs.GetConclusion() != "neutral" && cs.GetConclusion() != "skipped" {
		return nil
	}
	return a.autoDeploy(ctx, e.GetInstallation().GetID(), e.GetRepo(), cs.GetHeadBranch(), cs.GetHeadSHA())
}

// status (a commit status, the API some CI still uses) asks the same as a
// completed suite.
func (a *App) status(ctx context.Context, d event.Delivery, payload any) error {
	e, ok := payload.(*github.StatusEvent)
	if !ok {
		return event.Permanent(fmt.Errorf("status: unexpected payload %T", payload))
	}
	if e.GetState() != "success" {
		return nil
	}
	branch := e.GetRepo().GetDefaultBranch()
	for _, b := range e.Branches {
		if b.GetName() == branch {
			return a.autoDeploy(ctx, e.GetInstallation().GetID(), e.GetRepo(), branch, e.GetSHA())
		}
	}
	return nil
}

// autoDeploy deploys sha if it is the tip of the repository's default
// branch and CI is green on it (the agent checks).
func (a *App) autoDeploy(ctx context.Context, installation int64, repo *github.Repository, branch, sha string) error {
	def := repo.GetDefaultBranch()
	if branch != def {
		return nil
	}
	req := deployagent.Request{InstallationID: installation, RepositoryID: repo.GetID(), Owner: repo.GetOwner().GetLogin(),
		Repo: repo.GetName(), SHA: sha, Ref: def, DefaultBranch: def, Actor: audit.Ferry}
	// A suite names a branch, not whose: a fork's "main" says the same.
	// Only the commit at the tip of this repository's default branch deploys.
	tip, err := a.github(req.InstallationID).BranchHead(ctx, req.Owner, req.Repo, def)
	if err != nil {
		return classify(err)
	}
	if tip != req.SHA {
		a.log.InfoContext(ctx, "checks passed for a commit that is not the default branch's tip; not deploying", "sha", req.SHA, "tip", tip)
		return nil
	}
	p, err := a.assessor.ProposedDeploy(ctx, req.RepositoryID, 0, sha)
	if err != nil {
		return err
	}
	req.Proposed, req.Watch, req.NeedHuman = p.Strategy, p.Watch, p.NeedHuman
	if !p.Assessed {
		req.NeedHuman = []string{"ferry has not assessed " + audit.Short(sha)}
	}
	// Keyed by the commit: every suite completing asks again, once.
	deployed, waiting, err := a.deployer.AutoDeploy(ctx, req, "auto-"+sha)
	if waiting != "" {
		a.log.InfoContext(ctx, "not deploying automatically yet: CI has not finished green", "sha", sha, "waiting", waiting)
	}
	if len(deployed) > 0 {
		a.log.InfoContext(ctx, "deploying automatically", "sha", sha, "environments", len(deployed))
	}
	return classify(err)
}

// refused is a command ferry will not carry out: why is plain text.
func refused(why string) outcome {
	return outcome{output: why, refused: true, reply: "😕 " + md.Text(why)}
}
