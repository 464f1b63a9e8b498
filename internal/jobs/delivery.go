package jobs

import (
	"context"
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

type deliveryWorker struct {
	river.WorkerDefaults[DeliveryArgs]
	db      *store.DB
	handler Handler
	now     func() time.Time
	log     *slog.Logger
}

func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[DeliveryArgs]) error {
	d, err := w.db.GetDelivery(ctx, job.Args.DeliveryID)
	if err != nil {
		return fmt.Errorf("load delivery: %w", err)
	}
	ctx = logctx.With(ctx, slog.String("delivery", d.ID), slog.String("event", d.Event),
		slog.String("action", d.Action), slog.String("repo", d.Repository), slog.Int("attempt", job.Attempt))
	err = w.handler.HandleDelivery(ctx, d)
	switch {
	case err == nil:
		return w.db.FinishDelivery(ctx, d.ID, event.StatusDone, "", w.now())
	case event.IsPermanent(err):
		w.log.ErrorContext(ctx, "delivery failed permanently", "err", err)
		if ferr := w.db.FinishDelivery(ctx, d.ID, event.StatusFailed, err.Error(), w.now()); ferr != nil {
			return ferr
		}
		return river.JobCancel(err)
	case job.Attempt >= job.MaxAttempts:
		w.log.ErrorContext(ctx, "delivery failed; no attempts left", "err", err)
		if ferr := w.db.FinishDelivery(ctx, d.ID, event.StatusFailed, err.Error(), w.now()); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	default:
		w.log.WarnContext(ctx, "delivery failed; will retry", "err", err)
		return err
	}
}
