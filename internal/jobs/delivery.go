package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/logctx"
	"github.com/ferry-ci/ferry/internal/store"
)

// DeliveryArgs is the job that handles one stored delivery.
type DeliveryArgs struct {
	DeliveryID string `json:"delivery_id"`
	Event      string `json:"event"`
	Serial     string `json:"serial_key,omitempty"` // see serialMiddleware
}

// Kind implements river.JobArgs.
func (DeliveryArgs) Kind() string { return "delivery" }

// deliveryQueue is the River queue delivery jobs go to. Its own queue, not
// River's default, because a ferry from before payloads were compressed
// reads none of the compressed ones this version writes: during a
// rolling upgrade (or after a rollback) an older replica, which works only
// the default queue, never takes a delivery it cannot read, and the job
// waits for a replica that can. Deploy steps and periodic tasks stay in the
// default queue, where a burst of deliveries does not delay them.
const deliveryQueue = "deliveries"

// InsertOpts implements river.JobArgsWithInsertOpts.
func (DeliveryArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: deliveryQueue} }

type deliveryWorker struct {
	river.WorkerDefaults[DeliveryArgs]
	db      *store.DB
	handler Handler
	now     func() time.Time
	log     *slog.Logger
}

func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[DeliveryArgs]) error {
	d, err := w.db.GetDelivery(ctx, job.Args.DeliveryID)
	if errors.Is(err, store.ErrCorruptPayload) {
		// Reading it again gives the same bytes: fail it now, for an
		// operator (ferry_jobs_total, the delivery's error), instead of
		// retrying it away while it stays queued.
		w.log.ErrorContext(ctx, "delivery failed permanently", "delivery", job.Args.DeliveryID, "err", err)
		if ferr := w.finish(ctx, job.Args.DeliveryID, event.StatusFailed, err.Error()); ferr != nil {
			return ferr
		}
		return river.JobCancel(err)
	}
	if err != nil {
		return fmt.Errorf("load delivery: %w", err)
	}
	if d.Status == event.StatusDone || d.Status == event.StatusFailed {
		// Finished by an earlier run of this job that died before River
		// recorded it (finish commits first): its work is done.
		w.log.InfoContext(ctx, "delivery already finished; job completed", "delivery", d.ID, "status", string(d.Status))
		return nil
	}
	ctx = logctx.With(ctx, slog.String("delivery", d.ID), slog.String("event", d.Event),
		slog.String("action", d.Action), slog.String("repo", d.Repository), slog.Int("attempt", job.Attempt))
	err = w.handler.HandleDelivery(ctx, d)
	switch {
	case err == nil:
		return w.finish(ctx, d.ID, event.StatusDone, "")
	case event.IsPermanent(err):
		w.log.ErrorContext(ctx, "delivery failed permanently", "err", err)
		if ferr := w.finish(ctx, d.ID, event.StatusFailed, err.Error()); ferr != nil {
			return ferr
		}
		return river.JobCancel(err)
	case job.Attempt >= job.MaxAttempts:
		w.log.ErrorContext(ctx, "delivery failed; no attempts left", "err", err)
		if ferr := w.finish(ctx, d.ID, event.StatusFailed, err.Error()); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	default:
		w.log.WarnContext(ctx, "delivery failed; will retry", "err", err)
		return err
	}
}

// finish records how delivery id ended and releases the job's serial lock
// in one transaction: one commit (an fsync on SQLite) instead of two. River
// completes the job after Work returns, in a batch with others; a crash in
// between runs the job again, and the handler is idempotent.
//
// Why not river.JobCompleteTx here: River's completer still processes the
// job after Work returns, and on SQLite each of its per-job statements is
// expensive — measured, the job's CPU grew by half for the fsync it saved.
func (w *deliveryWorker) finish(ctx context.Context, id string, status event.Status, errText string) error {
	lock := heldSerialLock(ctx)
	err := w.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := store.FinishDeliveryTx(ctx, tx, id, status, errText, w.now()); err != nil {
			return err
		}
		return lock.releaseIn(ctx, tx)
	})
	if err != nil {
		return err
	}
	lock.committed()
	return nil
}
