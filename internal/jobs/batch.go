package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/store"
)

// Group commit: deliveries that arrive while a commit is under way share
// the next transaction, and so its one fsync. An idle edge commits at once
// (no waiting window), a busy one in batches as large as the queue that
// formed; a 202 still means the delivery and its job are on disk.

// maxBatch bounds the deliveries of one transaction.
const maxBatch = store.MaxInsertBatch

// batchTimeout bounds one batch's transaction: requests give up after the
// edge's own timeout, and a batch must not outlive them by much.
const batchTimeout = 8 * time.Second

// pending is one delivery waiting for its batch's commit.
type pending struct {
	d    event.Delivery
	done chan recorded
}

type recorded struct {
	outcome event.Outcome
	err     error
}

// committer takes pending deliveries and commits them in batches until
// stop is closed.
func (q *Queue) committer() {
	defer close(q.batchDone)
	for {
		var first *pending
		select {
		case first = <-q.pending:
		case <-q.batchStop:
			// What was handed over before the stop is committed, not dropped.
			for {
				select {
				case p := <-q.pending:
					q.commit([]*pending{p})
				default:
					return
				}
			}
		}
		batch := []*pending{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case p := <-q.pending:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		q.commit(batch)
	}
}

// commit records a batch in one transaction; if that fails, each delivery
// alone, so one bad delivery cannot fail the others.
func (q *Queue) commit(batch []*pending) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	outcomes := make([]event.Outcome, len(batch))
	err := q.db.InTx(ctx, func(tx *sql.Tx) error {
		ds := make([]event.Delivery, len(batch))
		for i, p := range batch {
			ds[i] = p.d
		}
		// One statement for the deliveries, one for their jobs.
		inserted, err := store.InsertDeliveries(ctx, tx, ds)
		if err != nil {
			return err
		}
		var jobs []river.InsertManyParams
		for i, p := range batch {
			o, args := outcomeOf(p.d, inserted)
			outcomes[i] = o
			if args != nil {
				jobs = append(jobs, river.InsertManyParams{Args: *args})
			}
		}
		if len(jobs) == 0 {
			return nil
		}
		if _, err := q.client.InsertManyFastTx(ctx, tx, jobs); err != nil {
			return fmt.Errorf("enqueue %d deliveries: %w", len(jobs), err)
		}
		return nil
	})
	q.batchSize.Observe(float64(len(batch)))
	for i, p := range batch {
		if err != nil && len(batch) > 1 {
			o, err := q.recordOne(ctx, p.d)
			p.done <- recorded{o, err}
			continue
		}
		p.done <- recorded{outcomes[i], err}
	}
}

// outcomeOf is a batched delivery's outcome (its id is claimed once:
// a second delivery of one id in a batch is the duplicate) and its job.
func outcomeOf(d event.Delivery, inserted map[string]bool) (event.Outcome, *DeliveryArgs) {
	switch {
	case !inserted[d.ID]:
		return event.OutcomeDuplicate, nil
	case d.Status != event.StatusQueued:
		delete(inserted, d.ID)
		return event.OutcomeIgnored, nil
	}
	delete(inserted, d.ID)
	return event.OutcomeAccepted, &DeliveryArgs{DeliveryID: d.ID, Event: d.Event, Serial: d.SerialKey()}
}

// insertDelivery stores d; args is its job, when it has one.
func insertDelivery(ctx context.Context, tx *sql.Tx, d event.Delivery) (event.Outcome, *DeliveryArgs, error) {
	inserted, err := store.InsertDelivery(ctx, tx, d)
	switch {
	case err != nil:
		return "", nil, err
	case !inserted:
		return event.OutcomeDuplicate, nil, nil
	case d.Status != event.StatusQueued:
		return event.OutcomeIgnored, nil, nil
	}
	return event.OutcomeAccepted, &DeliveryArgs{DeliveryID: d.ID, Event: d.Event, Serial: d.SerialKey()}, nil
}

// recordOne stores one delivery and its job in a transaction of its own.
func (q *Queue) recordOne(ctx context.Context, d event.Delivery) (event.Outcome, error) {
	var outcome event.Outcome
	err := q.db.InTx(ctx, func(tx *sql.Tx) error {
		o, args, err := insertDelivery(ctx, tx, d)
		if err != nil || args == nil {
			outcome = o
			return err
		}
		if _, err := q.client.InsertTx(ctx, tx, *args, nil); err != nil {
			return fmt.Errorf("enqueue delivery %s: %w", d.ID, err)
		}
		outcome = o
		return nil
	})
	if err != nil {
		return "", err
	}
	return outcome, nil
}

// stopBatches ends the committer once what it holds is committed (once).
func (q *Queue) stopBatches() {
	q.stopOnce.Do(func() { close(q.batchStop) })
	<-q.batchDone
}

func newBatchHistogram(reg prometheus.Registerer) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "ferry_webhook_batch_deliveries",
		Help:    "Deliveries recorded per transaction (group commit: those arriving while the previous commit ran share one).",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128},
	})
	reg.MustRegister(h)
	return h
}
