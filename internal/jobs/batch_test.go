package jobs_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/jobs"
	"github.com/ferry-ci/ferry/internal/store"
)

// TestQueue_GroupCommit: deliveries recorded at once share transactions —
// fewer commits than deliveries — and each is still recorded exactly once
// with its job: a redelivery racing its original in one batch is a
// duplicate, and every accepted delivery runs once.
func TestQueue_GroupCommit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHandler()
		q, reg := startQueue(t, db, h, jobs.Config{Workers: 4})
		const n = 200
		outcomes := make([]event.Outcome, n+20)
		var wg sync.WaitGroup
		for i := range n + 20 {
			wg.Go(func() {
				id := fmt.Sprint("g", i%n) // the last 20 are redeliveries of the first 20
				o, err := q.Record(context.Background(), delivery(id, int64(i%n), 1))
				if err != nil {
					t.Error(err)
				}
				outcomes[i] = o
			})
		}
		wg.Wait()
		count := map[event.Outcome]int{}
		for _, o := range outcomes {
			count[o]++
		}
		if count[event.OutcomeAccepted] != n || count[event.OutcomeDuplicate] != 20 {
			t.Fatalf("outcomes %v", count)
		}
		for i := range n {
			waitStatus(t, db, fmt.Sprint("g", i), event.StatusDone)
		}
		for id, calls := range h.calls {
			if calls != 1 {
				t.Errorf("%s handled %d times", id, calls)
			}
		}
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var h2 *dto.Histogram
		for _, f := range families {
			if f.GetName() == "ferry_webhook_batch_deliveries" {
				h2 = f.GetMetric()[0].GetHistogram()
			}
		}
		if h2 == nil || h2.GetSampleSum() != n+20 || h2.GetSampleCount() >= n+20 {
			t.Fatalf("batches: %v", h2)
		}
		t.Logf("%d deliveries in %d transactions", n+20, h2.GetSampleCount())
	})
}

// BenchmarkRecord: deliveries recorded per second by 16 concurrent
// callers (the edge's load), each durable before Record returns.
func BenchmarkRecord(b *testing.B) {
	for name, dsn := range map[string]func(testing.TB) string{"sqlite": dbtest.SQLiteURL, "postgres": dbtest.PostgresURL} {
		b.Run(name, func(b *testing.B) { benchRecord(b, dbtest.Open(b, dsn(b))) })
	}
}

func benchRecord(b *testing.B, db *store.DB) {
	{
		q, err := jobs.New(db, jobs.Config{Workers: 0}, newHandler(), prometheus.NewRegistry())
		if err != nil {
			b.Fatal(err)
		}
		var seq atomic.Int64
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := seq.Add(1)
				if _, err := q.Record(context.Background(), delivery(fmt.Sprint("b", i), i, 1)); err != nil {
					b.Error(err)
				}
			}
		})
		b.StopTimer()
		_ = q.Stop(context.Background())
	}
}

// TestQueue_RecordWhileStopping: deliveries handed over while the queue
// stops are either recorded (and say so) or refused (and are not in the
// store); none waits for its deadline because the committer left first.
func TestQueue_RecordWhileStopping(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		for round := range 20 {
			q, err := jobs.New(db, jobs.Config{Workers: 0}, newHandler(), prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			type result struct {
				id  string
				o   event.Outcome
				err error
			}
			results := make(chan result, 40)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			for i := range cap(results) {
				go func() {
					id := fmt.Sprintf("r%d-%d", round, i)
					o, err := q.Record(ctx, delivery(id, int64(i), round))
					results <- result{id, o, err}
				}()
			}
			if err := q.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
			for range cap(results) {
				var r result
				select {
				case r = <-results:
				case <-time.After(20 * time.Second):
					t.Fatalf("round %d: a Record still waits after Stop", round)
				}
				_, gerr := db.GetDelivery(context.Background(), r.id)
				if stored := gerr == nil; stored != (r.err == nil) {
					t.Errorf("%s: outcome %q, error %v, yet stored: %t", r.id, r.o, r.err, stored)
				}
			}
			cancel()
		}
	})
}
