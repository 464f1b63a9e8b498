package deployagent

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/rollout"
	"github.com/ferry-ci/ferry/internal/store"
)

// migrationsSince lists the migration files the deploy adds over the last
// deploy that succeeded here: rolling back over them may leave code older
// than its schema. None known (no earlier deploy) is none.
func (a *Agent) migrationsSince(ctx context.Context, d store.Deploy) ([]string, error) {
	all, err := a.store.Deploys(ctx, d.RepositoryID, d.Environment)
	if err != nil {
		return nil, err
	}
	prev := ""
	for _, o := range all {
		if o.ID != d.ID && o.Kind == "deploy" && o.Status == store.DeploySucceeded {
			prev = o.SHA
			break
		}
	}
	if prev == "" || prev == d.SHA {
		return nil, nil
	}
	ch, err := a.github(d.InstallationID).CompareChange(ctx, owner(&d), repo(&d), prev, d.SHA)
	if err != nil {
		return nil, fmt.Errorf("what the deploy changes since %s: %w", short(prev), err)
	}
	var out []string
	for _, f := range ch.Files {
		if change.Has(f.Path, change.Migration) {
			out = append(out, f.Path)
		}
	}
	return out, nil
}

// holdForMigrations does not roll back blindly: it keeps the deploy where
// it is, records why, and pages a human on the pull request with the
// evidence and the migration files.
func (a *Agent) holdForMigrations(ctx context.Context, d store.Deploy, v rollout.Verdict, files []string) (bool, error) {
	dec := audit.Decision{ID: "hold-" + d.ID, At: a.cfg.Now(), RepositoryID: d.RepositoryID, Repository: d.Repository,
		Subject: "env:" + d.Environment + "@" + short(d.SHA), Kind: "hold", Actor: audit.Ferry,
		InputsDigest: audit.Digest([]any{v.Measurements, files}),
		Output:       "held instead of rolling back: the deploy adds migrations"}
	for _, m := range v.Measurements {
		dec.Reasons = append(dec.Reasons, audit.Reason{Rule: m.Metric, Summary: m.Why})
	}
	dec.Reasons = append(dec.Reasons, audit.Reason{Rule: "migration", Summary: "rolling back would run older code on a newer schema", Evidence: files})
	if err := a.store.RecordDecision(ctx, dec, d.Number); err != nil {
		return false, err
	}
	msg := fmt.Sprintf("held: the metrics say roll back (%s), but the deploy adds migrations (%s) and the policy does not mark them "+
		"backward compatible — a human decides: fix forward, or `/ferry rollback %s --force`",
		strings.Join(v.Reasons, "; "), strings.Join(files, ", "), d.Environment)
	if d.Message != msg {
		if err := a.store.SetDeployMessage(ctx, d.ID, msg); err != nil {
			return false, err
		}
		a.page(ctx, d, msg)
		a.report(ctx, d.ID)
	}
	return true, nil
}

// page tells the people on the pull request, best effort.
func (a *Agent) page(ctx context.Context, d store.Deploy, msg string) {
	if d.Number == 0 {
		a.cfg.Logger.WarnContext(ctx, "a deploy needs a human and has no pull request to say so on", "deploy", d.ID, "why", msg)
		return
	}
	body := fmt.Sprintf("🚨 @%s ferry needs a human in **%s**.\n\n%s", d.Actor, d.Environment, msg)
	if _, err := a.github(d.InstallationID).UpsertComment(ctx, owner(&d), repo(&d), d.Number, "page-"+d.Environment, body); err != nil {
		a.cfg.Logger.WarnContext(ctx, "could not page on the pull request", "err", err)
	}
}

// ErrNotRunning: there is no running deploy to roll back.
var ErrNotRunning = errors.New("no deploy is running there")

// RollbackRunning asks the running deploy of an environment to roll back
// (from `/ferry rollback <env>`): by its next step it retires what it
// brought. A deploy held over migrations needs force.
func (a *Agent) RollbackRunning(ctx context.Context, repositoryID int64, environment, by string, force bool) (store.Deploy, error) {
	all, err := a.store.Deploys(ctx, repositoryID, environment)
	if err != nil {
		return store.Deploy{}, err
	}
	for _, d := range all {
		if d.Status != store.DeployRunning {
			continue
		}
		if strings.Contains(d.Message, "adds migrations") && !force {
			return d, fmt.Errorf("the running deploy adds migrations: roll back only with `--force`")
		}
		return d, a.store.AskRollback(ctx, d.ID, by)
	}
	return store.Deploy{}, ErrNotRunning
}

// rollBackAsked rolls a running deploy back because a person asked: the
// actions of the known-good plan are applied at once, canaries retired.
func (a *Agent) rollBackAsked(ctx context.Context, d store.Deploy, p plan, kube Kube) error {
	if err := a.restore(ctx, d, p, kube); err != nil {
		return err
	}
	dec := audit.Decision{ID: "rollback-" + d.ID, At: a.cfg.Now(), RepositoryID: d.RepositoryID, Repository: d.Repository,
		Subject: "env:" + d.Environment + "@" + short(d.SHA), Kind: "rollback", Actor: d.RollbackBy,
		InputsDigest: audit.Digest([]any{d.ID, d.RollbackBy}), Output: "rolled back " + short(d.SHA) + " in " + d.Environment + " on request"}
	if err := a.store.RecordDecision(ctx, dec, d.Number); err != nil {
		return err
	}
	return a.finish(ctx, d, p, store.DeployFailed, "rolled back by @"+d.RollbackBy)
}

// restore puts back what ran before the deploy: canaries retired, and the
// known-good images and colour applied at once (a no-op for what the
// deploy never touched). Kubernetes then rolls the pods.
func (a *Agent) restore(ctx context.Context, d store.Deploy, p plan, kube Kube) error {
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
