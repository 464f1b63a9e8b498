package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/command"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/deployagent"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/forge"
	ghadapter "github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/render"
	"github.com/ferry-ci/ferry/internal/riskagent"
)

// Deployer is the deploy agent.
type Deployer interface {
	Request(ctx context.Context, r deployagent.Request) (deploy.Deploy, error)
	AutoDeploy(ctx context.Context, r deployagent.Request, p policy.Policy, idPrefix string) ([]deploy.Deploy, string, error)
	RollbackRunning(ctx context.Context, repositoryID int64, environment, by string, force bool) (deploy.Deploy, error)
	Gate(ctx context.Context, g deploy.Gate, r deployagent.GateRequest) error
}

// deploy runs /ferry deploy and /ferry rollback: the environment comes from
// the default branch's policy (pol, read once for the comment); the agent
// records the deploy and its job; the answer says how it will go.
func (a *App) deploy(ctx context.Context, r request, pr *forge.PullRequest, pol policy.Loaded, d audit.Decision, c command.Command) (outcome, error) {
	name := c.Arg(0)
	env, ok := pol.Policy.Environments[name]
	if a.deployer == nil || !ok {
		return refused("no deploy target configured for " + name + " (environments: in " + policy.Path + " on the default branch)"), nil
	}
	if !env.Deploys() {
		return refused("ferry does not deploy to " + name + " itself (no namespace in " + policy.Path +
			"): it gates the deployments GitHub makes there, as a deployment protection rule"), nil
	}
	if c.Verb() == "deploy" {
		if out, done, err := a.promoteByCommand(ctx, r, pr, pol, name); done || err != nil {
			return out, err
		}
	}
	req := deployagent.Request{ID: d.ID, InstallationID: r.installation, RepositoryID: r.repoID, Owner: r.owner, Repo: r.repo,
		// The head the person saw when they asked, not whatever was pushed since.
		DefaultBranch: r.branch, Env: env, RequiredChecks: pol.Policy.RequiredChecks, SHA: r.headSHA, Ref: pr.HeadRef,
		Number: r.number, Actor: r.actor, Rollback: c.Verb() == "rollback", Hotfix: c.Flags["--hotfix"]}
	if req.Rollback {
		if out, done, err := a.rollbackRunning(ctx, r, name, c.Flags["--force"]); done || err != nil {
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
	if err != nil {
		return outcome{}, err
	}
	return outcome{output: "queued " + dep.ID + ": " + string(dep.Strategy), reply: render.ReplyPart{Deploy: &dep}}, nil
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
		return outcome{output: "asked " + running.ID + " to roll back", reply: render.ReplyPart{RollingBack: &running}}, true, nil
	case errors.Is(err, deployagent.ErrNotRunning):
		return outcome{}, false, nil
	}
	return outcome{}, true, err
}

// proposal is how ferry's assessment of the commit routes its deploy. A
// pull request ferry has not assessed at its current head is assessed now;
// a commit that stays unassessed needs a human.
func (a *App) proposal(ctx context.Context, r request, pr *forge.PullRequest, id string) (riskagent.Proposal, error) {
	p, err := a.assessor.ProposedDeploy(ctx, r.repoID, r.number, r.headSHA)
	if err != nil || p.Assessed {
		return p, err
	}
	if pr != nil && pr.HeadSHA == r.headSHA {
		if err := a.assess(ctx, a.subject(r, pr, "assess-"+id)); err != nil {
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
func (a *App) checkSuiteCompleted(ctx context.Context, _ event.Delivery, e any) error {
	cs, ok := e.(ghadapter.CheckSuite)
	if !ok {
		return unexpected("check_suite", e)
	}
	if cs.AppID == a.appID && a.appID != 0 {
		return nil // ferry's own suite is not CI
	}
	if err := a.testsJudged(ctx, cs); err != nil || a.deployer == nil {
		return classify(err)
	}
	if cs.Conclusion != "success" && cs.Conclusion != "neutral" && cs.Conclusion != "skipped" {
		return nil
	}
	return a.autoDeploy(ctx, cs.Repo, cs.HeadBranch, cs.HeadSHA)
}

// status (a commit status, the API some CI still uses) asks the same as a
// completed suite.
func (a *App) status(ctx context.Context, _ event.Delivery, e any) error {
	s, ok := e.(ghadapter.Status)
	if !ok {
		return unexpected("status", e)
	}
	for _, b := range s.Branches {
		if s.State == "success" && b == s.Repo.DefaultBranch {
			return a.autoDeploy(ctx, s.Repo, b, s.SHA)
		}
	}
	return nil
}

func autoDeploys(p policy.Policy) bool {
	for _, env := range p.Environments {
		if env.AutoDeploy && env.Deploys() {
			return true
		}
	}
	return false
}

// autoDeploy deploys sha if it is the tip of the repository's default
// branch, ferry assessed it, and CI is green on it (the agent checks).
func (a *App) autoDeploy(ctx context.Context, repo ghadapter.Repo, branch, sha string) error {
	def := repo.DefaultBranch
	if branch != def {
		return nil
	}
	// A suite names a branch, not whose: a fork's "main" says the same.
	// Only the commit at the tip of this repository's default branch deploys.
	tip, err := a.github(repo.InstallationID).BranchHead(ctx, repo.Owner, repo.Name, def)
	if err != nil {
		return classify(err)
	}
	if tip != sha {
		a.log.InfoContext(ctx, "checks passed for a commit that is not the default branch's tip; not deploying", "sha", sha, "tip", tip)
		return nil
	}
	pol, err := a.defaultPolicy(ctx, repo.InstallationID, repo.Owner, repo.Name, def)
	if err != nil || !pol.Usable() {
		if err == nil {
			a.log.WarnContext(ctx, "not deploying automatically: the default branch's policy is invalid", "sha", sha)
		}
		return classify(err)
	}
	if !autoDeploys(pol.Policy) {
		return classify(a.updatePromotions(ctx, repo, pol, "checks-"+sha))
	}
	req := deployagent.Request{InstallationID: repo.InstallationID, RepositoryID: repo.ID, Owner: repo.Owner, Repo: repo.Name,
		SHA: sha, Ref: def, DefaultBranch: def, Actor: audit.Ferry}
	p, err := a.assessor.ProposedDeploy(ctx, repo.ID, 0, sha)
	if err != nil {
		return err
	}
	if !p.Assessed {
		// CI can finish before ferry's job for the push has run: ask again
		// later (a retry), never deploy a commit ferry has not assessed.
		return fmt.Errorf("auto-deploy of %s waits for ferry's assessment of its push", audit.Short(sha))
	}
	req.Proposed, req.Watch, req.NeedHuman = p.Strategy, p.Watch, p.NeedHuman
	// Keyed by the commit: every suite completing asks again, once.
	deployed, waiting, err := a.deployer.AutoDeploy(ctx, req, pol.Policy, "auto-"+sha)
	if waiting != "" {
		a.log.InfoContext(ctx, "not deploying automatically yet: CI has not finished green", "sha", sha, "waiting", waiting)
	}
	if len(deployed) > 0 {
		a.log.InfoContext(ctx, "deploying automatically", "sha", sha, "environments", len(deployed))
	}
	if err == nil {
		// After the deploys: a retry for a pull request ferry could not
		// update asks the (idempotent) deploys again, never the reverse.
		err = a.updatePromotions(ctx, repo, pol, "checks-"+sha)
	}
	return classify(err)
}
