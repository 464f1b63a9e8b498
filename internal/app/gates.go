package app

import (
	"context"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/deployagent"
	"github.com/ferry-ci/ferry/internal/event"
	ghadapter "github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/policy"
)

// gateRequested hands a deployment protection rule request to the deploy
// agent with what it decides on, fixed now: the environment from the
// default branch's policy (one that needs a human when the policy does not
// name it), and why the risk route wants a human for the commit.
func (a *App) gateRequested(ctx context.Context, d event.Delivery, e any) error {
	g, ok := e.(ghadapter.GateRequested)
	if !ok {
		return unexpected("deployment_protection_rule", e)
	}
	if g.RunID == 0 {
		// The callback does not name a run of this repository: there is
		// nothing ferry could answer without calling where it was told.
		a.log.WarnContext(ctx, "protection rule request without a run of this repository; not answered",
			"repository", g.Repo.FullName(), "environment", g.Environment)
		return nil
	}
	r := g.Repo
	pol, err := a.defaultPolicy(ctx, r.InstallationID, r.Owner, r.Name, r.DefaultBranch)
	if err != nil {
		return classify(err)
	}
	env, named := pol.Policy.Environments[g.Environment]
	if !named {
		env = policy.Environment{Name: g.Environment, NeedsHuman: true}
	}
	gate := deploy.Gate{ID: d.ID, InstallationID: r.InstallationID, RepositoryID: r.ID, Repository: r.FullName(),
		Environment: g.Environment, SHA: g.SHA, Ref: g.Ref, RunID: g.RunID}
	for _, pr := range g.PullRequests {
		if pr.Head == g.SHA {
			gate.Number = pr.Number
		}
	}
	p, err := a.assessor.ProposedDeploy(ctx, r.ID, gate.Number, g.SHA)
	if err != nil {
		return err
	}
	need := p.NeedHuman
	if !p.Assessed {
		need = []string{"ferry has not assessed " + audit.Short(g.SHA)}
	}
	req := deployagent.GateRequest{Env: env, Invalid: !pol.Usable(), NeedHuman: need, Branch: r.DefaultBranch,
		RequiredChecks: pol.Policy.RequiredChecks}
	return classify(a.deployer.Gate(ctx, gate, req))
}
