package deployagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/logctx"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/rollout"
)

func cut(full string) (string, string, bool) { return strings.Cut(full, "/") }

// Step runs a deploy as far as it can now and says when to look again
// (0: it has ended). It is the job queue's step function: the queue runs
// one at a time per environment and again after a crash.
func (a *Agent) Step(ctx context.Context, id string) (time.Duration, error) {
	d, err := a.deploys.GetDeploy(ctx, id)
	if err != nil {
		return 0, err
	}
	ctx = logctx.With(ctx, slog.String("deploy", d.ID), slog.String("env", d.Environment))
	if d.Terminal() {
		return 0, nil
	}
	if d.Status == deploy.Queued {
		if wait, err := a.start(ctx, &d); err != nil || wait > 0 || d.Terminal() {
			return wait, err
		}
	}
	p, err := decodePlan(d)
	if err != nil {
		return 0, err
	}
	return a.run(ctx, d, p)
}

// start waits for the environment to be free (and not paused or frozen),
// then fixes the plan, remembers what runs now, and tells GitHub.
func (a *Agent) start(ctx context.Context, d *deploy.Deploy) (time.Duration, error) {
	all, err := a.deploys.Deploys(ctx, d.RepositoryID, d.Environment)
	if err != nil {
		return 0, err
	}
	for _, other := range all {
		earlier := other.CreatedAt.Before(d.CreatedAt) || other.CreatedAt.Equal(d.CreatedAt) && other.ID < d.ID
		if other.ID != d.ID && (other.Status == deploy.Running || other.Status == deploy.Queued && earlier) {
			// One at a time, in the order they were asked for.
			return a.hold(ctx, *d, deploy.HoldQueue, "waiting for deploy "+other.ID+" to "+d.Environment)
		}
	}
	var env policy.Environment
	if err := json.Unmarshal(d.Env, &env); err != nil {
		return 0, event.Permanent(fmt.Errorf("environment of deploy %s: %w", d.ID, err))
	}
	if cause, why, err := a.blocked(ctx, *d, env); err != nil || why != "" {
		if err != nil {
			return 0, err
		}
		return a.hold(ctx, *d, cause, why)
	}
	if ended, err := a.recheck(ctx, *d, env); err != nil || ended {
		return 0, a.reload(ctx, d, err)
	}
	kube, err := a.clusters(env)
	if err != nil {
		return 0, err
	}
	cur, known, err := a.current(ctx, kube, d, env, all)
	if err != nil {
		return 0, err
	}
	steps, err := a.steps(ctx, *d, env, cur)
	if errors.Is(err, errNothingToRollBack) {
		return 0, a.reload(ctx, d, a.finish(ctx, *d, plan{Env: env}, deploy.Failed, deploy.EndNothingToRollBack, err.Error()))
	}
	if err != nil {
		return 0, err
	}
	pb, _ := json.Marshal(plan{Env: env, Steps: steps})
	kb, _ := json.Marshal(known)
	if err := a.ensureGitHubDeployment(ctx, d, env.URL); err != nil {
		return 0, err
	}
	if err := a.tracker.StartDeploy(ctx, d.ID, d.Strategy, d.Reasons, pb, kb, a.cfg.Now()); err != nil {
		return 0, err
	}
	a.cfg.Logger.InfoContext(ctx, "deploy started", "strategy", d.Strategy, "steps", len(steps), "sha", d.SHA)
	a.report(ctx, d.ID)
	*d, err = a.deploys.GetDeploy(ctx, d.ID)
	return 0, err
}

// reload reads the deploy again after it changed (unless err).
func (a *Agent) reload(ctx context.Context, d *deploy.Deploy, err error) error {
	if err != nil {
		return err
	}
	*d, err = a.deploys.GetDeploy(ctx, d.ID)
	return err
}

func owner(d *deploy.Deploy) string { o, _, _ := cut(d.Repository); return o }
func repo(d *deploy.Deploy) string  { _, r, _ := cut(d.Repository); return r }

// steps plans the deploy: the strategy's steps, or for a rollback what
// restores the last known-good state.
func (a *Agent) steps(ctx context.Context, d deploy.Deploy, env policy.Environment, cur rollout.Current) ([]rollout.Step, error) {
	if d.Kind != deploy.KindRollback {
		image, err := imageFor(env, d.SHA)
		if err != nil {
			return nil, err
		}
		return rollout.Plan(d.Strategy, env, image, cur), nil
	}
	all, err := a.deploys.Deploys(ctx, d.RepositoryID, d.Environment)
	if err != nil {
		return nil, err
	}
	// The last deploy that started recorded what was good before it —
	// whether it succeeded (undo it) or failed (finish undoing it).
	if prev, ok := lastStarted(all, d.ID); ok && len(prev.KnownGood) > 0 {
		var good rollout.Known
		if err := json.Unmarshal(prev.KnownGood, &good); err != nil {
			return nil, fmt.Errorf("known-good state of %s: %w", prev.ID, err)
		}
		return rollout.RollbackPlan(env, good, cur), nil
	}
	return nil, errNothingToRollBack
}

var errNothingToRollBack = errors.New("nothing to roll back to: ferry has not deployed here before")

// blocked says why nothing may act now: a pause or a freeze window. Not
// knowing whether it is paused is an error, never "not paused".
func (a *Agent) blocked(ctx context.Context, d deploy.Deploy, env policy.Environment) (deploy.HoldCause, string, error) {
	p, err := a.control.Paused(ctx, d.RepositoryID, d.Environment)
	if err != nil {
		return "", "", err
	}
	if p != nil {
		return deploy.HoldPaused, "paused by @" + p.By + reasonSuffix(p.Reason), nil
	}
	if f, ok := env.Frozen(a.cfg.Now()); ok {
		return deploy.HoldFrozen, "frozen until " + f.To.UTC().Format(time.RFC3339) + reasonSuffix(f.Reason), nil
	}
	return "", "", nil
}

func reasonSuffix(r string) string {
	if r == "" {
		return ""
	}
	return ": " + r
}

// hold records why the deploy waits and looks again later.
func (a *Agent) hold(ctx context.Context, d deploy.Deploy, cause deploy.HoldCause, why string) (time.Duration, error) {
	if d.Message != why || d.HoldCause != cause {
		a.cfg.Logger.InfoContext(ctx, "deploy waits", "cause", cause, "why", why)
		if err := a.tracker.HoldDeploy(ctx, d.ID, cause, why); err != nil {
			return 0, err
		}
		a.report(ctx, d.ID)
	}
	return 5 * a.cfg.Poll, nil
}

// creatingDeployment marks a GitHub deployment whose create was sent but
// whose id was not recorded.
const creatingDeployment = -1

// ensureGitHubDeployment creates the deploy's GitHub deployment once: the
// intent is recorded first, and a retry after a crash finds the deployment
// by its payload instead of creating a second.
func (a *Agent) ensureGitHubDeployment(ctx context.Context, d *deploy.Deploy, url string) error {
	if d.GitHubDeploymentID > 0 {
		return nil
	}
	gh := a.github(d.InstallationID)
	var id int64
	var err error
	if d.GitHubDeploymentID == creatingDeployment {
		if id, err = gh.FindDeployment(ctx, owner(d), repo(d), d.SHA, d.Environment, "ferry_deploy", d.ID); err != nil {
			return err
		}
	}
	if id == 0 {
		if err := a.tracker.SetDeployGitHub(ctx, d.ID, creatingDeployment); err != nil {
			return err
		}
		id, err = gh.CreateDeployment(ctx, owner(d), repo(d), forge.Deployment{Ref: d.SHA, Environment: d.Environment,
			Description: fmt.Sprintf("%s by ferry (%s)", d.Kind, d.Strategy), Payload: map[string]string{"ferry_deploy": d.ID},
			Production: d.Environment == "production"})
		if err != nil {
			return err
		}
	}
	if err := a.tracker.SetDeployGitHub(ctx, d.ID, id); err != nil {
		return err
	}
	d.GitHubDeploymentID = id
	return a.status(ctx, *d, "in_progress", "ferry is deploying with "+string(d.Strategy), url)
}

func (a *Agent) status(ctx context.Context, d deploy.Deploy, state, desc, url string) error {
	if d.GitHubDeploymentID <= 0 {
		return nil
	}
	return a.github(d.InstallationID).SetDeploymentStatus(ctx, owner(&d), repo(&d), d.GitHubDeploymentID,
		forge.DeploymentStatus{State: state, Description: desc, EnvironmentURL: url})
}

// run works the plan from the deploy's current step until a step must
// wait, the plan ends, or a step fails.
func (a *Agent) run(ctx context.Context, d deploy.Deploy, p plan) (time.Duration, error) {
	kube, err := a.clusters(p.Env)
	if err != nil {
		return 0, err
	}
	if d.RollbackBy != "" {
		return 0, a.rollBackAsked(ctx, d, p, kube)
	}
	recorded, err := a.stepLog.DeploySteps(ctx, d.ID)
	if err != nil {
		return 0, err
	}
	for n := d.Step; n < len(p.Steps); n++ {
		s := p.Steps[n]
		rec, held, err := a.send(ctx, d, p, kube, n, recorded)
		if err != nil || held > 0 {
			return held, err
		}
		if s.Kind == rollout.Analyze {
			if wait, stop, err := a.watch(ctx, d, p, kube, s); err != nil || stop {
				return wait, err
			}
		}
		verdict, why, err := a.settle(ctx, kube, p, s, rec)
		if err != nil {
			return 0, err
		}
		switch verdict {
		case rollout.Wait:
			return a.waitStep(ctx, d, n, len(p.Steps), s, why, p.Env)
		case rollout.Failed:
			a.retireCanaries(ctx, kube, p)
			return 0, a.finish(ctx, d, p, deploy.Failed, deploy.EndStepFailed, fmt.Sprintf("step %d (%s) failed: %s", n+1, s.Note, why))
		case rollout.Done:
		}
		if err := a.stepLog.StepDone(ctx, d.ID, n, a.cfg.Now()); err != nil {
			return 0, err
		}
		if s.Kind == rollout.WaitRollout || s.Kind == rollout.Pause {
			a.report(ctx, d.ID) // a stage reached: worth telling
		}
	}
	return 0, a.finish(ctx, d, p, deploy.Succeeded, deploy.EndCompleted, fmt.Sprintf("%s %s to %s with %s", d.Kind, short(d.SHA), d.Environment, d.Strategy))
}

// acts reports whether a step sends something to the cluster (the others
// only wait and look).
func acts(kind rollout.StepKind) bool {
	return kind != rollout.WaitRollout && kind != rollout.Pause && kind != rollout.Analyze
}

// send records step n and sends its action the first time — unless a pause
// or freeze holds it — and sends it again when a crash may have come
// between recording and sending (every action is idempotent). It returns
// the step's record, or how long to wait when held.
func (a *Agent) send(ctx context.Context, d deploy.Deploy, p plan, kube Kube, n int, recorded []deploy.StepRecord) (deploy.StepRecord, time.Duration, error) {
	s := p.Steps[n]
	rec, applied := stepRecord(recorded, n)
	switch {
	case !applied:
		// Checked right before acting, not only at the start.
		cause, why, err := a.blocked(ctx, d, p.Env)
		if err != nil {
			return rec, 0, err
		}
		if why != "" {
			wait, err := a.hold(ctx, d, cause, why+fmt.Sprintf(" (at step %d of %d)", n+1, len(p.Steps)))
			return rec, wait, err
		}
		rec = deploy.StepRecord{N: n, AppliedAt: a.cfg.Now()}
	case !rec.DoneAt.IsZero() || !acts(s.Kind):
		return rec, 0, nil
	}
	if _, err := a.stepLog.StepApplying(ctx, d.ID, n, s.Kind, s.Note, a.cfg.Now()); err != nil {
		return rec, 0, err
	}
	return rec, 0, kube.Apply(ctx, p.Env.Namespace, s)
}

// watch runs one metric check of an Analyze step. stop: the deploy rolled
// back, or holds for a human (wait says when to look again).
func (a *Agent) watch(ctx context.Context, d deploy.Deploy, p plan, kube Kube, s rollout.Step) (wait time.Duration, stop bool, err error) {
	v, err := a.analyze(ctx, d, p.Env, s)
	if err != nil {
		return 0, true, err
	}
	switch v.Action {
	case rollout.RollBack:
		files, unknown, err := a.migrationsSince(ctx, d, p.Env)
		if err != nil {
			return 0, true, err
		}
		if (len(files) > 0 || unknown) && !p.Env.MigrationsBackwardCompatible {
			_, err := a.holdForMigrations(ctx, d, v, files)
			return p.Env.Analysis.Interval, true, err
		}
		return 0, true, a.rollBack(ctx, d, p, kube, v)
	case rollout.Hold:
		msg := "held: " + strings.Join(v.Reasons, "; ") + " — a human decides (/ferry rollback " + d.Environment + ")"
		if v.NewHold {
			if err := a.recordHold(ctx, d, v); err != nil {
				return 0, true, err
			}
			a.page(ctx, d, msg) // no metrics, recommend-only, or degraded together: a person must look, once
		}
		wait, err := a.hold(ctx, d, deploy.HoldAnalysis, msg)
		return wait, true, err
	case rollout.Continue:
	}
	return 0, false, nil
}

func stepRecord(recorded []deploy.StepRecord, n int) (deploy.StepRecord, bool) {
	for _, r := range recorded {
		if r.N == n {
			return r, true
		}
	}
	return deploy.StepRecord{}, false
}

func (a *Agent) settle(ctx context.Context, kube Kube, p plan, s rollout.Step, rec deploy.StepRecord) (rollout.Settled, string, error) {
	var st rollout.Status
	if s.Kind == rollout.WaitRollout {
		var err error
		if st, err = kube.Status(ctx, p.Env.Namespace, s.Deployment); err != nil {
			return "", "", err
		}
	}
	verdict, why := rollout.Settle(s, st, a.cfg.Now().Sub(rec.AppliedAt), p.Env.ProgressDeadline)
	return verdict, why, nil
}

func (a *Agent) waitStep(ctx context.Context, d deploy.Deploy, n, total int, s rollout.Step, why string, env policy.Environment) (time.Duration, error) {
	msg := fmt.Sprintf("step %d of %d: %s — %s", n+1, total, s.Note, why)
	if msg != d.Message {
		if err := a.tracker.SetDeployMessage(ctx, d.ID, msg); err != nil {
			return 0, err
		}
	}
	switch s.Kind {
	case rollout.Analyze:
		return env.Analysis.Interval, nil // the next check
	case rollout.Pause:
		return min(s.Pause, a.cfg.Poll*5), nil
	case rollout.WaitRollout, rollout.SetImage, rollout.EnsureCopy, rollout.Scale, rollout.SwitchService:
	}
	return a.cfg.Poll, nil
}

func (a *Agent) finish(ctx context.Context, d deploy.Deploy, p plan, status deploy.Status, cause deploy.EndCause, msg string) error {
	state := "success"
	if status == deploy.Failed {
		state = "failure"
	}
	// GitHub first: once the deploy is marked ended, no retry would tell it.
	if err := a.status(ctx, d, state, msg, p.Env.URL); err != nil {
		return err
	}
	// Judged before the deploy is marked ended: a crash in between retries
	// both, and whoever sees the deploy ended sees the judgement too.
	if status == deploy.Succeeded && d.Kind == deploy.KindDeploy {
		if err := a.judgeEarlierRollback(ctx, d); err != nil {
			return err
		}
	}
	if err := a.ending(ctx, d); err != nil {
		return err
	}
	if err := a.tracker.FinishDeploy(ctx, d.ID, status, cause, msg, a.cfg.Now()); err != nil {
		return err
	}
	a.cfg.Logger.InfoContext(ctx, "deploy ended", "status", status, "message", msg)
	a.report(ctx, d.ID)
	return nil
}

// GiveUp ends a deploy whose job will not run again (a permanent error, or
// no attempts left): it is marked failed and GitHub told, so the
// environment is free for the next deploy. Best effort on GitHub.
func (a *Agent) GiveUp(ctx context.Context, id string, cause error) {
	d, err := a.deploys.GetDeploy(ctx, id)
	if err != nil || d.Terminal() {
		return
	}
	// The cause stays in the log: internal error text never reaches GitHub.
	msg := "ferry could not finish this deploy (an operator can see why: deploy " + id + ")"
	if err := a.status(ctx, d, "error", "ferry could not finish this deploy; see its progress", ""); err != nil {
		a.cfg.Logger.WarnContext(ctx, "could not tell GitHub a deploy failed", "deploy", id, "err", err)
	}
	if err := a.ending(ctx, d); err != nil {
		a.cfg.Logger.WarnContext(ctx, "could not tell that a deploy ends", "deploy", id, "err", err)
	}
	if err := a.tracker.FinishDeploy(ctx, id, deploy.Failed, deploy.EndGaveUp, msg, a.cfg.Now()); err != nil {
		a.cfg.Logger.ErrorContext(ctx, "could not mark a deploy failed", "deploy", id, "err", err)
		return
	}
	a.cfg.Logger.ErrorContext(ctx, "deploy failed", "deploy", id, "err", cause)
	a.retireAfterGivingUp(ctx, d)
	a.report(ctx, id)
}

// lastStarted is the newest deploy (not rollback) other than except that
// started, from a list newest first.
func lastStarted(all []deploy.Deploy, except string) (deploy.Deploy, bool) {
	for _, d := range all {
		if d.ID != except && d.Kind == deploy.KindDeploy && !d.StartedAt.IsZero() {
			return d, true
		}
	}
	return deploy.Deploy{}, false
}

func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// judgeEarlierRollback: the same commit, rolled back automatically before,
// now deployed unchanged and healthy — that rollback was probably a false
// positive. Recorded as the rollback decision's outcome.
func (a *Agent) judgeEarlierRollback(ctx context.Context, d deploy.Deploy) error {
	all, err := a.deploys.Deploys(ctx, d.RepositoryID, d.Environment)
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.ID != d.ID && o.SHA == d.SHA && o.Kind == deploy.KindDeploy && o.EndCause == deploy.EndRolledBackAuto {
			return a.audit.RecordOutcome(ctx, "rollback-"+o.ID, "probable-false-positive", audit.Ferry, a.cfg.Now())
		}
	}
	return nil
}

// current reads what runs, and settles what was good before this deploy
// and the strategy that can change what the Service serves.
func (a *Agent) current(ctx context.Context, kube Kube, d *deploy.Deploy, env policy.Environment, all []deploy.Deploy) (rollout.Current, rollout.Known, error) {
	cur, known, err := kube.Current(ctx, env.Namespace, env.Workloads, env.Service)
	if err != nil {
		return cur, known, err
	}
	if last, ok := lastStarted(all, d.ID); ok && last.Status == deploy.Failed && len(last.KnownGood) > 0 {
		// The cluster may still run part of a failed deploy: what was good
		// is what ran before it.
		known = rollout.Known{}
		if err := json.Unmarshal(last.KnownGood, &known); err != nil {
			return cur, known, fmt.Errorf("known-good state of %s: %w", last.ID, err)
		}
	}
	if cur.ActiveColour != "" && d.Kind == deploy.KindDeploy && d.Strategy != policy.BlueGreen {
		// The Service selects a colour: only blue-green changes what it serves.
		d.Strategy, d.Reasons = policy.BlueGreen, d.Reasons+"; the Service selects the "+cur.ActiveColour+
			" track, so blue-green is what changes what it serves"
	}
	return cur, known, nil
}
