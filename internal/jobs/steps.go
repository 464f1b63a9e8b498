package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/event"
)

// StepFunc does what durable work it can now (a deploy's steps) and says
// when to look again; 0 means it has finished. It must be idempotent: after
// a crash it runs again from what it recorded.
type StepFunc func(ctx context.Context, key string) (again time.Duration, err error)

// Step is durable work in steps, registered by name.
type Step struct {
	Run StepFunc
	// GiveUp, if set, runs when the job ends without finishing: a permanent
	// error, or no attempts left. Its owner records the failure, so nothing
	// waits behind work that will never end.
	GiveUp func(ctx context.Context, key string, err error)
}

// StepArgs is the job of a StepFunc for one key.
type StepArgs struct {
	Name   string `json:"name"`
	Key    string `json:"key"`
	Serial string `json:"serial_key,omitempty"` // see serialMiddleware
}

// Kind implements river.JobArgs.
func (StepArgs) Kind() string { return "step" }

type stepWorker struct {
	river.WorkerDefaults[StepArgs]
	steps map[string]Step
}

func (w *stepWorker) Work(ctx context.Context, job *river.Job[StepArgs]) error {
	step, ok := w.steps[job.Args.Name]
	if !ok {
		return river.JobCancel(fmt.Errorf("no step function %q in this version", job.Args.Name))
	}
	again, err := step.Run(ctx, job.Args.Key)
	last := event.IsPermanent(err) || (err != nil && job.Attempt >= job.MaxAttempts)
	if last && step.GiveUp != nil {
		step.GiveUp(ctx, job.Args.Key, err)
	}
	switch {
	case event.IsPermanent(err):
		return river.JobCancel(err)
	case err != nil:
		return err
	case again > 0:
		// Waiting (a rollout, a pause) is not an attempt.
		return river.JobSnooze(again)
	}
	return nil
}

// enqueueStep inserts the job of a StepFunc in tx, so it exists exactly
// when what tx writes does. One pending job per name and key: inserting it
// again while one waits adds nothing.
func (q *Queue) enqueueStep(ctx context.Context, tx *sql.Tx, name, key, serial string) error {
	args := StepArgs{Name: name, Key: key, Serial: serial}
	_, err := q.client.InsertTx(ctx, tx, args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
	if err != nil {
		return fmt.Errorf("enqueue %s %s: %w", name, key, err)
	}
	return nil
}

// CreateDeploy records a deploy and the job of its first step in one
// transaction: both or neither (created is false when it exists). It is
// the deploy agent's unit of work; no transaction crosses into the agent.
func (q *Queue) CreateDeploy(ctx context.Context, d deploy.Deploy, step, key, serial string) (created bool, err error) {
	return q.db.CreateDeploy(ctx, d, func(tx *sql.Tx) error { return q.enqueueStep(ctx, tx, step, key, serial) })
}

// CreateGate records a protection rule request and the job that answers it
// in one transaction: both or neither.
func (q *Queue) CreateGate(ctx context.Context, g deploy.Gate, step, key string) (created bool, err error) {
	return q.db.CreateGate(ctx, g, func(tx *sql.Tx) error { return q.enqueueStep(ctx, tx, step, key, "") })
}

// EnqueueStep inserts the job of a StepFunc on its own: once per name and
// key (a later insert, even after the job finished, adds nothing), so a
// caller told twice enqueues once. Jobs sharing serial never run at once.
func (q *Queue) EnqueueStep(ctx context.Context, name, key, serial string) error {
	_, err := q.client.Insert(ctx, StepArgs{Name: name, Key: key, Serial: serial}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
	if err != nil {
		return fmt.Errorf("enqueue %s %s: %w", name, key, err)
	}
	return nil
}
