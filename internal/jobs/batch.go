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

// batchLinger is how long a busy edge waits for more deliveries to share a
// transaction: a fraction of a commit's own time (an fsync), so a batch
// grows by the deliveries already on their way instead of one commit each.
const batchLinger = time.Millisecond

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
	busy := false
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
		batch := q.gather(first, busy)
		busy = len(batch) > 1
		q.commit(batch)
	}
}

// gather is the batch that starts with first: every delivery already
// waiting and, when busy (the last batch held more than one, so others
// are on their way), those that arrive within batchLinger. An idle edge
// commits at once.
func (q *Queue) gather(first *pending, busy bool) []*pending {
	batch := []*pending{first}
	var linger <-chan time.Time
	if busy {
		t := time.NewTimer(batchLinger)
		defer t.Stop()
		linger = t.C
	}
	for len(batch) < maxBatch {
		select {
		case p := <-q.pending:
			batch = append(batch, p)
			continue
		default:
		}
		if linger == nil {
			break
		}
		select {
		case p := <-q.pending:
			batch = append(batch, p)
		case <-linger:
			return batch
		case <-q.batchStop:
			return batch
		}
	}
	return batch
}

// commit records a batch in one transaction; if that fails, each delivery
// alone, so one bad delivery cannot fail the others.
func (q *Queue) commit(batch []*pending) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	ds := make([]event.Delivery, len(batch))
	for i, p := range batch {
		ds[i] = p.d
	}
	outcomes, err := q.record(ctx, ds)
	q.batchSize.Observe(float64(len(batch)))
	for i, p := range batch {
		if err != nil && len(batch) > 1 {
			alone, err := q.record(ctx, ds[i:i+1])
			p.done <- recorded{firstOf(alone), err}
			continue
		}
		p.done <- recorded{firstOf(outcomes[i:]), err}
	}
}

func firstOf(os []event.Outcome) event.Outcome {
	if len(os) == 0 {
		return ""
	}
	return os[0]
}

// record stores deliveries and the jobs of those with a handler in one
// transaction: one statement for the deliveries, one for their jobs.
func (q *Queue) record(ctx context.Context, ds []event.Delivery) ([]event.Outcome, error) {
	outcomes := make([]event.Outcome, len(ds))
	err := q.db.InTx(ctx, func(tx *sql.Tx) error {
		inserted, err := store.InsertDeliveries(ctx, tx, ds)
		if err != nil {
			return err
		}
		var jobs []river.InsertManyParams
		for i, d := range ds {
			o, args := outcomeOf(d, inserted)
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
	if err != nil {
		return nil, err
	}
	return outcomes, nil
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
