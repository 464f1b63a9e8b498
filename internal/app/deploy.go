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
	"github.com/ferry-ci/ferry/internal/store"
)

// Deployer is the deploy agent.
type Deployer interface {
	Request(ctx context.Context, r deployagent.Request) (store.Deploy, error)
	AutoDeploy(ctx context.Context, r deployagent.Request, idPrefix string) ([]store.Deploy, error)
	RollbackRunning(ctx context.Context, repositoryID int64, environment, by string, force bool) (store.Deploy, error)
}

// deploy runs /ferry deploy and /ferry rollback: the agent records the
// deploy and its job; the answer says how it will go.
func (a *App) deploy(ctx context.Context, r request, pr *ghadapter.PullRequest, d audit.Decision, c command.Command) (outcome, error) {
	env := c.Arg(0)
	refuse := func(why string) (outcome, error) {
		return outcome{output: why, refused: true, reply: "😕 " + why}, nil
	}
	if a.deployer == nil {
		return refuse("no deploy target configured for `" + env + "`")
	}
	req := deployagent.Request{ID: d.ID, InstallationID: r.installation, RepositoryID: r.repoID, Owner: r.owner, Repo: r.repo,
		// The head the person saw when they asked, not whatever was pushed since.
		DefaultBranch: r.branch, Environment: env, SHA: r.headSHA, Ref: pr.HeadRef, Number: r.number, Actor: r.actor,
		Rollback: c.Verb() == "rollback", Hotfix: c.Flags["--hotfix"]}
	if req.Rollback {
		// A deploy running there (held, or still rolling out) is rolled back
		// in place: a new rollback would wait behind it.
		running, err := a.deployer.RollbackRunning(ctx, r.repoID, env, r.actor, c.Flags["--force"])
		switch {
		case err == nil:
			return outcome{output: "asked " + running.ID + " to roll back", reply: "🚀 rolling back the running deploy `" + running.ID + "` in `" + env + "`"}, nil
		case !errors.Is(err, deployagent.ErrNotRunning) && running.ID != "":
			return refuse(err.Error())
		case !errors.Is(err, deployagent.ErrNotRunning):
			return outcome{}, err
		}
	}
	var err error
	if req.Proposed, req.Watch, err = a.assessor.ProposedDeploy(ctx, r.repoID, r.number); err != nil {
		return outcome{}, err
	}
	dep, err := a.deployer.Request(ctx, req)
	switch {
	case errors.Is(err, deployagent.ErrNoTarget):
		return refuse("no deploy target configured for `" + env + "` (`environments:` in `.github/ferry.yml`)")
	case event.IsPermanent(err):
		return refuse(err.Error()) // the policy's own words: forbidden strategy, invalid file
	case err != nil:
		return outcome{}, err
	}
	what := fmt.Sprintf("%s `%s` to `%s` with **%s** (%s)", dep.Kind, audit.Short(dep.SHA), dep.Environment, dep.Strategy, dep.Reasons)
	return outcome{output: "queued " + dep.ID + ": " + dep.Strategy, reply: "🚀 " + what + " — GitHub's deployment shows progress."}, nil
}

// checkSuiteCompleted deploys the default branch where policy deploys
// automatically, once its checks passed.
func (a *App) checkSuiteCompleted(ctx context.Context, d event.Delivery, payload any) error {
	e, ok := payload.(*github.CheckSuiteEvent)
	if !ok {
		return event.Permanent(fmt.Errorf("check_suite: unexpected payload %T", payload))
	}
	cs := e.GetCheckSuite()
	branch := e.GetRepo().GetDefaultBranch()
	if cs.GetConclusion() != "success" || cs.GetHeadBranch() != branch {
		return nil
	}
	req := deployagent.Request{InstallationID: e.GetInstallation().GetID(), RepositoryID: e.GetRepo().GetID(),
		Owner: e.GetRepo().GetOwner().GetLogin(), Repo: e.GetRepo().GetName(), SHA: cs.GetHeadSHA(), Ref: branch,
		DefaultBranch: branch, Actor: audit.Ferry}
	// A suite names a branch, not whose: a fork's "main" says the same.
	// Only the commit at the tip of this repository's default branch deploys.
	tip, err := a.github(req.InstallationID).BranchHead(ctx, req.Owner, req.Repo, branch)
	if err != nil {
		return classify(err)
	}
	if tip != req.SHA {
		a.log.InfoContext(ctx, "checks passed for a commit that is not the default branch's tip; not deploying", "sha", req.SHA, "tip", tip)
		return nil
	}
	// The route of the latest push assessed on the default branch.
	if req.Proposed, req.Watch, err = a.assessor.ProposedDeploy(ctx, req.RepositoryID, 0); err != nil {
		return err
	}
	// Keyed by the commit: every app's suite completing asks again.
	_, err = a.deployer.AutoDeploy(ctx, req, "auto-"+cs.GetHeadSHA())
	return classify(err)
}
