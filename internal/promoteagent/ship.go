package promoteagent

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/control"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/deployagent"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/md"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/promotion"
)

// Shipper is the person who shipped a production-deploy pull request (by
// merging it, or /ferry deploy on it) and whether their role allows it.
type Shipper struct {
	Login string
	// Denied is why their role does not allow it ("" when it does): the
	// application's one permission gate decided.
	Denied string
}

// Of finds the production-deploy pull request with this number (ok false:
// the pull request is not one).
func (a *Agent) Of(ctx context.Context, repositoryID int64, number int) (promotion.PR, bool, error) {
	p, err := a.deps.Promotions.Promotion(ctx, repositoryID, number)
	if errors.Is(err, promotion.ErrNotFound) {
		return p, false, nil
	}
	return p, err == nil, err
}

// Merged ships a production-deploy pull request a person merged: the
// commit it proposed, fixed now, whatever was pushed to the default branch
// since. The merge is recorded before anything acts; a merge that does not
// count (by whom, or of what) is refused on the pull request and the deploy
// branch moved back. Closed unmerged, it is recorded as closed; pull
// requests not ferry's are left alone.
func (a *Agent) Merged(ctx context.Context, r Repo, pr forge.PullRequest, by Shipper, pol policy.Loaded) error {
	rec, ours, err := a.Of(ctx, r.ID, pr.Number)
	if err != nil || !ours {
		return err
	}
	if !pr.Merged {
		_, err := a.deps.Promotions.AdvancePromotion(ctx, r.ID, pr.Number, []promotion.State{promotion.Open}, promotion.Closed, "", "", a.cfg.Now())
		return err
	}
	// Closed: a person closed it, reopened it and merged it.
	if rec.State == promotion.Open || rec.State == promotion.Closed {
		if why := a.shippable(ctx, r, rec, pr, by, pol); why != "" {
			return a.refuse(ctx, r, rec, by.Login, why)
		}
		// The deploy's id is recorded with the merge: whenever it ends, its
		// end finds this pull request.
		if _, err := a.deps.Promotions.AdvancePromotion(ctx, r.ID, rec.Number, []promotion.State{promotion.Open, promotion.Closed},
			promotion.Merged, by.Login, deployID(r, rec), a.cfg.Now()); err != nil {
			return err
		}
		if rec, err = a.deps.Promotions.Promotion(ctx, r.ID, rec.Number); err != nil {
			return err
		}
	}
	switch rec.State {
	case promotion.Restoring: // refused, and the move back did not finish: a retry finishes it
		return a.restore(ctx, r, rec, "#"+strconv.Itoa(rec.Number)+" was merged but not deployed")
	case promotion.Merged:
	case promotion.Open, promotion.Closed, promotion.Deploying, promotion.Deployed, promotion.Restored, promotion.Shipped:
		return nil // shipped or ended before: a retry, or a second event
	}
	why, err := a.ship(ctx, r, rec, rec.MergedBy, pol)
	if why != "" {
		return a.refuse(ctx, r, rec, rec.MergedBy, why)
	}
	return err
}

// Deploy is /ferry deploy on an open production-deploy pull request: the
// same as merging it (the commenter's role was checked by the
// application). why is the refusal to answer, "" when it deploys.
func (a *Agent) Deploy(ctx context.Context, r Repo, pr forge.PullRequest, by Shipper, pol policy.Loaded) (why string, err error) {
	rec, ours, err := a.Of(ctx, r.ID, pr.Number)
	if err != nil || !ours {
		return "", err
	}
	if rec.State != promotion.Open {
		return "this production-deploy pull request was shipped or closed already; the next candidate opens a new one", nil
	}
	if why := a.shippable(ctx, r, rec, pr, by, pol); why != "" {
		return why, nil
	}
	return a.ship(ctx, r, rec, by.Login, pol)
}

// ship records the shipping as the approval and who may not approve, then
// asks the deploy agent for the deploy — keyed by the pull request, so a
// retry after a crash finds the same deploy. why: the agent refused.
func (a *Agent) ship(ctx context.Context, r Repo, rec promotion.PR, by string, pol policy.Loaded) (why string, err error) {
	env := pol.Policy.Environments[rec.Environment]
	if err := a.approve(ctx, r, rec, env, by); err != nil {
		return "", err
	}
	req := deployagent.Request{ID: deployID(r, rec), InstallationID: r.InstallationID,
		RepositoryID: r.ID, Owner: r.Owner, Repo: r.Name, DefaultBranch: r.DefaultBranch, Env: env, RequiredChecks: pol.Policy.RequiredChecks,
		SHA: rec.Candidate, Ref: env.Promote.Branch, Number: rec.Number, Actor: by, Proposed: rec.Plan.Strategy,
		Watch: rec.Plan.Watch, NeedHuman: rec.Plan.NeedHuman}
	if rec.Head != rec.Candidate {
		req.Head = rec.Head
	}
	if !env.Promote.AuthorsApprove {
		// Even where no human is otherwise asked for, the changes' authors
		// do not ship their own changes: the gate checks who shipped it.
		req.NeedHuman = append(append([]string(nil), req.NeedHuman...), "a production-deploy pull request ships by someone who wrote none of it")
	}
	d, err := a.deps.Deployer.Request(ctx, req)
	if ref, ok := deployagent.AsRefusal(err); ok {
		return ref.Public, nil
	}
	if err != nil {
		return "", err
	}
	if _, err := a.deps.Promotions.AdvancePromotion(ctx, r.ID, rec.Number, []promotion.State{promotion.Open, promotion.Merged},
		promotion.Deploying, by, d.ID, a.cfg.Now()); err != nil {
		return "", err
	}
	if d.Terminal() {
		// A retry after the deploy already ended (a crash between asking
		// for it and recording it): its end is followed here, not missed.
		return "", a.Ended(ctx, r, d, pol)
	}
	return "", a.record(ctx, r, rec.Number, "shipped-"+strconv.Itoa(rec.Number),
		fmt.Sprintf("@%s shipped #%d: deploy %s of %s to %s with %s", by, rec.Number, d.ID, short(rec.Candidate), env.Name, d.Strategy),
		[]audit.Reason{{Rule: "combined-risk", Summary: fmt.Sprintf("%s risk, %s, watch %s", rec.Plan.Level, rec.Plan.Strategy, rec.Plan.Watch)}},
		rec.Candidate, by)
}

// deployID is the deploy a production-deploy pull request ships: one per
// pull request and candidate, so a retry finds it and nothing else does.
func deployID(r Repo, rec promotion.PR) string {
	return "promote-" + strconv.FormatInt(r.ID, 10) + "-" + strconv.Itoa(rec.Number) + "-" + short(rec.Candidate)
}

// shippable says why a person's shipping does not count, or "": the
// policy, the pull request as ferry proposed it (head and base), their
// role, and what the environment runs (a pull request proposed over
// something older would take it back).
func (a *Agent) shippable(ctx context.Context, r Repo, rec promotion.PR, pr forge.PullRequest, by Shipper, pol policy.Loaded) string {
	env, ok := pol.Policy.Environments[rec.Environment]
	switch {
	case !pol.Usable():
		return policy.Path + " on the default branch is invalid: fix it first"
	case !ok || !env.Promoted():
		return rec.Environment + " is no longer promoted through pull requests in " + policy.Path
	case pr.HeadSHA != "" && pr.HeadSHA != rec.Head:
		return "its head is not the commit ferry proposed (" + short(rec.Head) + "): only ferry moves its branch"
	case pr.BaseRef != "" && rec.Base != "" && pr.BaseRef != rec.Base:
		return "it no longer merges into " + rec.Base + ": only that branch records what " + rec.Environment + " runs"
	case by.Denied != "":
		return by.Denied
	}
	deploys, err := a.deps.Deploys.Deploys(ctx, r.ID, rec.Environment)
	if runs := promotion.Running(rans(deploys)); err == nil && runs != "" && rec.Running != "" && runs != rec.Running {
		return rec.Environment + " runs " + short(runs) + " now, not what this pull request was proposed over (" + short(rec.Running) +
			"): the next candidate opens a new pull request"
	}
	return ""
}

// approve records the shipping as the human approval of the candidate,
// and the changes' authors as its pushers: unless policy allows it, an
// author's shipping does not count (the gate refuses, and says so).
func (a *Agent) approve(ctx context.Context, r Repo, rec promotion.PR, env policy.Environment, by string) error {
	now := a.cfg.Now()
	if !env.Promote.AuthorsApprove {
		for _, author := range rec.Plan.Authors {
			if err := a.deps.Control.RecordPush(ctx, r.ID, rec.Number, rec.Candidate, author, now); err != nil {
				return err
			}
		}
	}
	d := audit.Decision{ID: "promote-approve-" + strconv.FormatInt(r.ID, 10) + "-" + strconv.Itoa(rec.Number) + "-" + by, At: now,
		RepositoryID: r.ID, Repository: r.fullName(), Subject: "#" + strconv.Itoa(rec.Number), Kind: audit.KindApproval, Actor: by,
		InputsDigest: audit.Digest([]any{rec.Candidate, by}),
		Output:       "approved " + short(rec.Candidate) + " for " + env.Name + " by shipping #" + strconv.Itoa(rec.Number)}
	return a.deps.Control.Approve(ctx, r.ID, rec.Number, control.Approval{By: by, HeadSHA: rec.Candidate, At: now}, d)
}

// refuse records why a merge does not deploy, says it on the pull request,
// and moves the deploy branch back to what runs.
func (a *Agent) refuse(ctx context.Context, r Repo, rec promotion.PR, by, why string) error {
	if _, err := a.deps.Promotions.AdvancePromotion(ctx, r.ID, rec.Number, []promotion.State{promotion.Open, promotion.Closed, promotion.Merged},
		promotion.Restoring, by, "", a.cfg.Now()); err != nil {
		return err
	}
	if err := a.record(ctx, r, rec.Number, "refused-"+strconv.Itoa(rec.Number), "merged, not deployed: "+why, nil, rec.Candidate, by); err != nil {
		return err
	}
	msg := "😕 ferry will not deploy this merge: " + md.Text(why) + "\n\n" + md.Text(rec.Environment) +
		" keeps running what it ran; the deploy branch is moved back to it, and the next candidate opens a new pull request."
	if _, err := a.deps.GitHub(r.InstallationID).UpsertComment(ctx, r.Owner, r.Name, rec.Number, commentKey(rec.Environment), msg); err != nil {
		return err
	}
	rec.State = promotion.Restoring
	return a.restore(ctx, r, rec, "#"+strconv.Itoa(rec.Number)+" was merged but not deployed")
}

// Ended follows a deploy that ended: a production-deploy pull request's
// deploy records its outcome (a failure moves the deploy branch back to
// what runs), then every promoted environment's pull request is brought
// up to date — a deploy to staging makes a new candidate.
func (a *Agent) Ended(ctx context.Context, r Repo, d deploy.Deploy, pol policy.Loaded) error {
	rec, err := a.deps.Promotions.PromotionOfDeploy(ctx, r.ID, d.ID)
	switch {
	case errors.Is(err, promotion.ErrNotFound):
	case err != nil:
		return err
	case d.Status == deploy.Succeeded:
		if err := a.succeeded(ctx, r, rec, d); err != nil {
			return err
		}
	default:
		if _, err := a.deps.Promotions.AdvancePromotion(ctx, r.ID, rec.Number, []promotion.State{promotion.Merged, promotion.Deploying},
			promotion.Restoring, "", "", a.cfg.Now()); err != nil {
			return err
		}
		if rec, err = a.deps.Promotions.Promotion(ctx, r.ID, rec.Number); err != nil {
			return err
		}
		if err := a.restore(ctx, r, rec, "deploy "+d.ID+" "+outcome(d)); err != nil {
			return err
		}
	}
	return a.Update(ctx, r, pol)
}

func outcome(d deploy.Deploy) string {
	if d.EndCause.RolledBack() {
		return "was rolled back"
	}
	return "failed"
}

// succeeded records the shipped deploy; a pull request shipped by command
// (still open) is closed as done.
func (a *Agent) succeeded(ctx context.Context, r Repo, rec promotion.PR, d deploy.Deploy) error {
	if _, err := a.deps.Promotions.AdvancePromotion(ctx, r.ID, rec.Number, []promotion.State{promotion.Merged, promotion.Deploying},
		promotion.Deployed, "", "", a.cfg.Now()); err != nil {
		return err
	}
	return a.closeIfOpen(ctx, r, rec.Number)
}

// closeIfOpen closes a production-deploy pull request shipped by command
// (still open): its work is done either way, and the next candidate gets
// a pull request of its own.
func (a *Agent) closeIfOpen(ctx context.Context, r Repo, number int) error {
	gh := a.deps.GitHub(r.InstallationID)
	pr, err := gh.PullRequest(ctx, r.Owner, r.Name, number)
	if err != nil || pr.State != "open" {
		return err
	}
	return gh.ClosePull(ctx, r.Owner, r.Name, number)
}

// restore moves the deploy branch back to what the environment runs with
// a recorded commit (never a force push) and says so on the pull request.
func (a *Agent) restore(ctx context.Context, r Repo, rec promotion.PR, why string) error {
	if rec.State != promotion.Restoring {
		return nil
	}
	deploys, err := a.deps.Deploys.Deploys(ctx, r.ID, rec.Environment)
	if err != nil {
		return err
	}
	runs := promotion.Running(rans(deploys))
	if runs == "" {
		runs = rec.Running
	}
	gh := a.deps.GitHub(r.InstallationID)
	branch := rec.Base // as ferry proposed it: never whatever base the pull request names now
	if branch == "" {
		branch = "deploy/" + rec.Environment
	}
	msg := fmt.Sprintf("%s runs %s again\n\n%s; ferry records what runs.\n\nferry-restores: %s", rec.Environment, short(runs), why, runs)
	sha, moved, err := gh.RestoreBranch(ctx, r.Owner, r.Name, branch, runs, msg)
	if err != nil {
		return err
	}
	if err := a.closeIfOpen(ctx, r, rec.Number); err != nil {
		return err
	}
	if _, err := a.deps.Promotions.AdvancePromotion(ctx, r.ID, rec.Number, []promotion.State{promotion.Restoring}, promotion.Restored,
		"", "", a.cfg.Now()); err != nil {
		return err
	}
	out := fmt.Sprintf("%s moved back to what %s runs (%s): %s", branch, rec.Environment, short(runs), why)
	if moved {
		out += ", by commit " + short(sha)
	}
	if err := a.record(ctx, r, rec.Number, "restored-"+strconv.Itoa(rec.Number), out, nil, runs, sha); err != nil {
		return err
	}
	body := "↩️ ferry: " + md.Text(rec.Environment) + " runs " + md.Code(short(runs)) + " again — " + md.Text(why) + ". " +
		md.Code(branch) + " records it again (commit " + md.Code(short(sha)) + "); the next candidate opens a new pull request."
	_, err = gh.UpsertComment(ctx, r.Owner, r.Name, rec.Number, commentKey(rec.Environment)+"-restored", body)
	return err
}
