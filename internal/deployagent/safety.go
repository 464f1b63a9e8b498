package deployagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/md"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/rollout"
)

// migrationsSince lists the migration files the deploy adds over what ran
// before it: rolling back over them may leave code older than its schema.
// What ran is the last deploy that succeeded here, else — the first deploy
// through ferry — the commit the cluster's image names (read back through
// the image template). unknown: neither tells, so a rollback could cross
// migrations ferry cannot see.
func (a *Agent) migrationsSince(ctx context.Context, d deploy.Deploy, env policy.Environment) (files []string, unknown bool, err error) {
	prev, err := a.ranBefore(ctx, d, env)
	if err != nil || prev == "" {
		return nil, prev == "" && err == nil, err
	}
	if prev == d.SHA || strings.HasPrefix(d.SHA, prev) {
		return nil, false, nil
	}
	ch, err := a.github(d.InstallationID).CompareChange(ctx, owner(&d), repo(&d), prev, d.SHA)
	if github.Classify(err) == github.KindNotFound {
		return nil, true, nil // a commit GitHub does not know here: what ran is unknown
	}
	if err != nil {
		return nil, false, fmt.Errorf("what the deploy changes since %s: %w", short(prev), err)
	}
	for _, f := range ch.Files {
		if change.Has(f.Path, change.Migration) {
			files = append(files, f.Path)
		}
	}
	return files, false, nil
}

// ranBefore is the commit that ran before the deploy, or "" if unknown.
func (a *Agent) ranBefore(ctx context.Context, d deploy.Deploy, env policy.Environment) (string, error) {
	all, err := a.deploys.Deploys(ctx, d.RepositoryID, d.Environment)
	if err != nil {
		return "", err
	}
	for _, o := range all {
		if o.ID != d.ID && o.Kind == deploy.KindDeploy && o.Status == deploy.Succeeded && o.CreatedAt.Before(d.CreatedAt) {
			return o.SHA, nil
		}
	}
	var good rollout.Known
	if len(d.KnownGood) == 0 || json.Unmarshal(d.KnownGood, &good) != nil || len(env.Workloads) == 0 {
		return "", nil
	}
	// Every workload must have run the same commit, or what ran is unclear.
	return commitOfImages(env, good), nil
}

// holdForMigrations does not roll back blindly: it keeps the deploy where
// it is, records why, and pages a human on the pull request with the
// evidence and the migration files (none listed: ferry cannot tell what
// ran before this deploy).
func (a *Agent) holdForMigrations(ctx context.Context, d deploy.Deploy, v rollout.Verdict, files []string) (bool, error) {
	why := "the deploy adds migrations (" + strings.Join(files, ", ") + ") and the policy does not mark them backward compatible"
	if len(files) == 0 {
		why = "ferry cannot tell which migrations lie between this deploy and what ran before it (no earlier deploy through " +
			"ferry, and the cluster's image names no commit)"
	}
	dec := a.decision(d, "hold-"+d.ID, audit.KindHold, audit.Ferry, []any{v.Measurements, files}, "held instead of rolling back: "+why)
	for _, m := range v.Measurements {
		dec.Reasons = append(dec.Reasons, audit.Reason{Rule: m.Metric, Summary: m.Why})
	}
	dec.Reasons = append(dec.Reasons, audit.Reason{Rule: "migration", Summary: "rolling back could run older code on a newer schema", Evidence: files})
	if err := a.audit.RecordDecision(ctx, dec, d.Number); err != nil {
		return false, err
	}
	msg := fmt.Sprintf("held: the metrics say roll back (%s), but %s — a human decides: fix forward, or /ferry rollback %s --force",
		strings.Join(v.Reasons, "; "), why, d.Environment)
	if d.Message != msg || !d.NeedsForce {
		if err := a.tracker.HoldDeploy(ctx, d.ID, deploy.HoldMigrations, msg); err != nil {
			return false, err
		}
		a.page(ctx, d, msg)
		a.report(ctx, d.ID)
	}
	return true, nil
}

// recordHold keeps an analysis hold in the audit trail with its evidence,
// once per deploy and cause (a retried step adds nothing).
func (a *Agent) recordHold(ctx context.Context, d deploy.Deploy, v rollout.Verdict) error {
	dec := a.decision(d, "hold-"+d.ID+"-"+audit.Digest(v.State.Held)[7:19], audit.KindHold, audit.Ferry, v.Measurements,
		"held: "+strings.Join(v.Reasons, "; "))
	dec.Reasons = measurementReasons(v.Measurements)
	return a.audit.RecordDecision(ctx, dec, d.Number)
}

// page tells the people on the pull request, best effort.
func (a *Agent) page(ctx context.Context, d deploy.Deploy, msg string) {
	if d.Number == 0 {
		a.cfg.Logger.WarnContext(ctx, "a deploy needs a human and has no pull request to say so on", "deploy", d.ID, "why", msg)
		return
	}
	// The person who asked is paged (not "@ferry" for ferry's own
	// deploys: that is somebody's login); everything else is text.
	who := "@" + d.Actor + " "
	if d.Actor == audit.Ferry {
		who = ""
	}
	body := fmt.Sprintf("🚨 %sferry needs a human in **%s**.\n\n%s", who, md.Text(d.Environment), md.Text(msg))
	if _, err := a.github(d.InstallationID).UpsertComment(ctx, owner(&d), repo(&d), d.Number, "page-"+d.Environment, body); err != nil {
		a.cfg.Logger.WarnContext(ctx, "could not page on the pull request", "err", err)
	}
}

// ErrNotRunning: there is no running deploy to roll back.
var ErrNotRunning = errors.New("no deploy is running there")

// RollbackRunning asks the running deploy of an environment to roll back
// (from `/ferry rollback <env>`): by its next step it retires what it
// brought. A deploy held over migrations needs force.
func (a *Agent) RollbackRunning(ctx context.Context, repositoryID int64, environment, by string, force bool) (deploy.Deploy, error) {
	all, err := a.deploys.Deploys(ctx, repositoryID, environment)
	if err != nil {
		return deploy.Deploy{}, err
	}
	for _, d := range all {
		if d.Status != deploy.Running {
			continue
		}
		if d.NeedsForce && !force {
			return d, refuse("the running deploy was held over migrations: roll back only with --force, once you know the older code runs on the newer schema",
				"rollback of "+d.ID+" without --force over a migration hold")
		}
		return d, a.tracker.AskRollback(ctx, d.ID, by)
	}
	return deploy.Deploy{}, ErrNotRunning
}

// rollBackAsked rolls a running deploy back because a person asked: the
// actions of the known-good plan are applied at once, canaries retired.
func (a *Agent) rollBackAsked(ctx context.Context, d deploy.Deploy, p plan, kube Kube) error {
	if err := a.restore(ctx, d, p, kube); err != nil {
		return err
	}
	dec := a.decision(d, "rollback-"+d.ID, audit.KindRollback, d.RollbackBy, []any{d.ID, d.RollbackBy},
		"rolled back "+short(d.SHA)+" in "+d.Environment+" on request")
	if err := a.audit.RecordDecision(ctx, dec, d.Number); err != nil {
		return err
	}
	return a.finish(ctx, d, p, deploy.Failed, deploy.EndRolledBackRequest, "rolled back by @"+d.RollbackBy)
}

// restore puts back what ran before the deploy: canaries retired, and the
// known-good images and colour applied at once (a no-op for what the
// deploy never touched). Kubernetes then rolls the pods.
func (a *Agent) restore(ctx context.Context, d deploy.Deploy, p plan, kube Kube) error {
	a.retireCanaries(ctx, kube, p)
	var good rollout.Known
	if err := jsonUnmarshal(d.KnownGood, &good); err != nil {
		return err
	}
	cur, _, err := kube.Current(ctx, p.Env.Namespace, p.Env.Workloads, p.Env.Service)
	if err != nil {
		return err
	}
	for _, s := range rollout.RollbackPlan(p.Env, good, cur) {
		if s.Kind != rollout.WaitRollout {
			if err := kube.Apply(ctx, p.Env.Namespace, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// retireAfterGivingUp retires what a deploy given up on brought beside the
// stable version (its canaries and baselines take traffic through the
// Service); best effort, what runs in the stable Deployment stays for a
// human to judge.
func (a *Agent) retireAfterGivingUp(ctx context.Context, d deploy.Deploy) {
	if len(d.Plan) == 0 {
		return // never started: nothing was applied
	}
	p, err := decodePlan(d)
	if err != nil {
		return
	}
	kube, err := a.clusters(p.Env)
	if err != nil {
		a.cfg.Logger.WarnContext(ctx, "could not retire the canary of a deploy given up on", "deploy", d.ID, "err", err)
		return
	}
	a.retireCanaries(ctx, kube, p)
}

// retireCanaries scales a failed deploy's canaries (and baselines) to
// zero: their pods match the Service and would keep taking traffic. Best effort — the
// failure is reported either way.
func (a *Agent) retireCanaries(ctx context.Context, kube Kube, p plan) {
	for _, s := range p.Steps {
		if s.Kind == rollout.EnsureCopy && (s.Track == "canary" || s.Track == "baseline") {
			retire := rollout.Step{Kind: rollout.Scale, Deployment: s.Deployment, Replicas: 0}
			if err := kube.Apply(ctx, p.Env.Namespace, retire); err != nil {
				a.cfg.Logger.WarnContext(ctx, "could not retire a failed canary", "deployment", s.Deployment, "err", err)
			}
		}
	}
}
