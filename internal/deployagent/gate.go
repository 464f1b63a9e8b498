package deployagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/deploygate"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/policy"
)

// CI is what the gate reads from one installation's client: the pull
// request a deploy comes from, and what CI reported on the commit.
type CI interface {
	PullRequest(ctx context.Context, owner, repo string, number int) (forge.PullRequest, error)
	RequiredChecks(ctx context.Context, owner, repo, branch string) (names []string, known bool, err error)
	CommitChecks(ctx context.Context, owner, repo, sha string) (deploygate.Observed, error)
	HeadAuthors(ctx context.Context, owner, repo string, number int) ([]string, error)
}

// Refusal is a deploy ferry will not do. Public is for the person who asked
// (plain text, nothing of the operator's setup: escape it before posting);
// Detail is for the log and the operator's part of the audit trail.
type Refusal struct{ Public, Detail string }

func (r *Refusal) Error() string { return r.Public }

// AsRefusal finds a refusal in err.
func AsRefusal(err error) (*Refusal, bool) {
	var r *Refusal
	ok := errors.As(err, &r)
	return r, ok
}

func refuse(public, detail string) error { return &Refusal{Public: public, Detail: detail} }

// approval is why a human must approve a deploy, kept on it so the gate is
// checked again when it starts.
type approval struct {
	Reasons        []string `json:"reasons"`
	Branch         string   `json:"branch"`                    // whose required checks apply
	RequiredChecks []string `json:"required_checks,omitempty"` // the policy's, when protection's cannot be read
	Head           string   `json:"head,omitempty"`            // the pull request head standing for the commit (Request.Head)
}

// needsHuman says why a person must approve: the risk route's reasons and
// the environment's needs_human. Rollbacks never need one: they restore.
func needsHuman(r Request, env policy.Environment) []string {
	if r.Rollback {
		return nil
	}
	out := append([]string(nil), r.NeedHuman...)
	if env.NeedsHuman {
		out = append(out, "environment "+env.Name+" needs a human (needs_human)")
	}
	return out
}

// authorize checks a deploy against its approval requirement: refused (a
// *Refusal) or nil.
func (a *Agent) authorize(ctx context.Context, d deploy.Deploy) error {
	if len(d.Approval) == 0 {
		return nil
	}
	var need approval
	if err := json.Unmarshal(d.Approval, &need); err != nil {
		return fmt.Errorf("approval of deploy %s: %w", d.ID, err)
	}
	f, err := a.facts(ctx, d, need)
	if err != nil {
		return err
	}
	if why := deploygate.Authorize(f); why != "" {
		return refuse(string(why), "gate: "+string(why))
	}
	return nil
}

// facts gathers what the gate decides on.
func (a *Agent) facts(ctx context.Context, d deploy.Deploy, need approval) (deploygate.Facts, error) {
	f := deploygate.Facts{SHA: d.SHA, NeedHuman: need.Reasons, Number: d.Number}
	if d.Number == 0 {
		return f, nil
	}
	ci := a.ci(d.InstallationID)
	pr, err := ci.PullRequest(ctx, owner(&d), repo(&d), d.Number)
	if err != nil {
		return f, err
	}
	f.Author, f.PR, f.Head = pr.Author, deploygate.PROpen, pr.HeadSHA
	if need.Head != "" && pr.HeadSHA == need.Head {
		f.Head = d.SHA // ferry's commit of the deployed commit's content, unchanged since
	}
	switch {
	case pr.Merged:
		f.PR = deploygate.PRMerged
	case pr.State != "open":
		f.PR = deploygate.PRClosed
	}
	approvals, err := a.control.Approvals(ctx, d.RepositoryID, d.Number)
	if err != nil {
		return f, err
	}
	for _, ap := range approvals {
		f.Approvals = append(f.Approvals, deploygate.Approval{By: ap.By, HeadSHA: ap.HeadSHA})
	}
	if f.Pushers, err = a.control.Pushers(ctx, d.RepositoryID, d.Number, d.SHA); err != nil {
		return f, err
	}
	if len(f.Pushers) == 0 {
		// ferry missed the event that says who pushed this head: the head
		// commit's author and committer stand in. Forging them only keeps
		// more people from approving — the safe direction.
		if f.Pushers, err = ci.HeadAuthors(ctx, owner(&d), repo(&d), d.Number); err != nil {
			return f, err
		}
	}
	f.Checks, err = a.checks(ctx, d.InstallationID, owner(&d), repo(&d), need.Branch, d.SHA, need.RequiredChecks)
	return f, err
}

// checks judges a commit's required checks: branch protection's list when
// readable, else the policy's required_checks, else every check suite of
// another app. ferry's own never count.
func (a *Agent) checks(ctx context.Context, installation int64, owner, repo, branch, sha string, policyChecks []string) (deploygate.Checks, error) {
	ci := a.ci(installation)
	req := deploygate.Required{Source: deploygate.FromSuites}
	names, known, err := ci.RequiredChecks(ctx, owner, repo, branch)
	if err != nil {
		return deploygate.Checks{}, err
	}
	if known {
		req = deploygate.Required{Source: deploygate.FromProtection, Names: names}
	} else if len(policyChecks) > 0 {
		req = deploygate.Required{Source: deploygate.FromPolicy, Names: policyChecks}
	}
	obs, err := ci.CommitChecks(ctx, owner, repo, sha)
	if err != nil {
		return deploygate.Checks{}, err
	}
	obs.Self = a.cfg.AppID
	return deploygate.Evaluate(req, obs), nil
}

// allowed checks the operator's --deploy-allow rules. A rollback of what
// ferry itself deployed there stays possible without a rule: it restores
// what ran before ferry's own deploy.
func (a *Agent) allowed(ctx context.Context, r Request) error {
	env, full := r.Env, r.Owner+"/"+r.Repo
	if a.cfg.Allow.Permits(full, env) {
		return nil
	}
	if r.Rollback {
		all, err := a.deploys.Deploys(ctx, r.RepositoryID, env.Name)
		if err != nil {
			return err
		}
		for _, d := range all {
			if d.Kind == deploy.KindDeploy && !d.StartedAt.IsZero() && sameTarget(d.Env, env) {
				return nil
			}
		}
	}
	return refuse(fmt.Sprintf("ferry's operator has not allowed deploys from this repository to %s; ask them to add a "+
		"--deploy-allow rule for it", env.Name),
		fmt.Sprintf("%s may not deploy to %s (no --deploy-allow rule matches)", full, Target(env)))
}

func sameTarget(raw []byte, env policy.Environment) bool {
	var e policy.Environment
	return json.Unmarshal(raw, &e) == nil && Target(e) == Target(env)
}

// recheck runs the gate again when a deploy starts: the operator's rules
// may have changed, an approval may be void (a push), the pull request
// closed, a check gone red. Refused, the deploy ends without touching the
// cluster and the pull request is told why (ended reports it).
func (a *Agent) recheck(ctx context.Context, d deploy.Deploy, env policy.Environment) (ended bool, err error) {
	o, r, _ := cut(d.Repository)
	err = a.allowed(ctx, Request{Owner: o, Repo: r, RepositoryID: d.RepositoryID, Env: env, Rollback: d.Kind == deploy.KindRollback})
	if err == nil {
		err = a.authorize(ctx, d)
	}
	ref, refused := AsRefusal(err)
	if !refused {
		return false, err
	}
	a.cfg.Logger.InfoContext(ctx, "deploy refused when it was to start", "why", ref.Detail)
	dec := a.decision(d, "gate-"+d.ID, auditKind(d.Kind), audit.Ferry, []any{d.ID, d.SHA}, "not started: "+ref.Public)
	dec.Reasons = []audit.Reason{{Rule: "refused", Summary: ref.Detail, Private: true}}
	if err := a.audit.RecordDecision(ctx, dec, d.Number); err != nil {
		return false, err
	}
	msg := "not started: " + ref.Public
	a.page(ctx, d, msg)
	return true, a.finish(ctx, d, plan{Env: env}, deploy.Failed, deploy.EndGate, msg)
}
