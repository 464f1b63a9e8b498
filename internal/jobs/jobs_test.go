package jobs_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/jobs"
	"github.com/ferry-ci/ferry/internal/store"
)

// recordingHandler keeps what it handled and how many ran at once per key.
type recordingHandler struct {
	mu       sync.Mutex
	calls    map[string]int // delivery id → times handled
	running  map[string]int // serial key → running now
	maxByKey map[string]int
	maxAll   int
	nowAll   int
	hold     time.Duration
	fail     func(d event.Delivery, attempt int) error
}

func newHandler() *recordingHandler {
	return &recordingHandler{calls: map[string]int{}, running: map[string]int{}, maxByKey: map[string]int{}}
}

func (h *recordingHandler) HandleDelivery(ctx context.Context, d event.Delivery) error {
	key := d.SerialKey()
	h.mu.Lock()
	h.calls[d.ID]++
	attempt := h.calls[d.ID]
	h.running[key]++
	h.nowAll++
	h.maxByKey[key] = max(h.maxByKey[key], h.running[key])
	h.maxAll = max(h.maxAll, h.nowAll)
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.running[key]--
		h.nowAll--
		h.mu.Unlock()
	}()
	select {
	case <-time.After(h.hold):
	case <-ctx.Done():
		return ctx.Err()
	}
	if h.fail != nil {
		return h.fail(d, attempt)
	}
	return nil
}

func delivery(id string, repo int64, number int) event.Delivery {
	payload := fmt.Sprintf(`{"action":"opened","number":%d,"repository":{"id":%d,"full_name":"o/r"},"n":%q}`, number, repo, id)
	sum := sha256.Sum256([]byte(payload))
	return event.Delivery{
		ID: id, Event: "pull_request", Action: "opened", ReceivedAt: time.Now(), Payload: []byte(payload),
		Digest: hex.EncodeToString(sum[:]), Status: event.StatusQueued, RepositoryID: repo, Repository: "o/r", Number: number,
	}
}

func startQueue(t *testing.T, db *store.DB, h jobs.Handler, cfg jobs.Config) (*jobs.Queue, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.PollEvery = 50 * time.Millisecond
	cfg.SerialRetry = 20 * time.Millisecond
	q, err := jobs.New(db, cfg, h, reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return q, reg
}

func waitStatus(t *testing.T, db *store.DB, id string, want event.Status) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := db.GetDelivery(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s is %s, want %s", id, d.Status, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestQueue_RunsEachDeliveryOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHandler()
		q, reg := startQueue(t, db, h, jobs.Config{Workers: 4})
		for i := range 10 {
			if _, err := q.Record(context.Background(), delivery(fmt.Sprint("d", i), int64(i), 1)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 10 {
			waitStatus(t, db, fmt.Sprint("d", i), event.StatusDone)
		}
		for id, n := range h.calls {
			if n != 1 {
				t.Errorf("%s handled %d times", id, n)
			}
		}
		waitMetric(t, reg, "completed", 10)
	})
}

// TestQueue_SerializesByKey: deliveries for one pull request never run at
// the same time, across workers; different pull requests do.
func TestQueue_SerializesByKey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHandler()
		h.hold = 100 * time.Millisecond
		q, _ := startQueue(t, db, h, jobs.Config{Workers: 6})
		var ids []string
		for i := range 4 {
			for _, pr := range []int{7, 8} {
				d := delivery(fmt.Sprintf("pr%d-%d", pr, i), 42, pr)
				ids = append(ids, d.ID)
				if _, err := q.Record(context.Background(), d); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, id := range ids {
			waitStatus(t, db, id, event.StatusDone)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		for key, n := range h.maxByKey {
			if n != 1 {
				t.Errorf("%s: %d jobs ran at once", key, n)
			}
		}
		if h.maxAll < 2 {
			t.Errorf("different pull requests never ran together (max %d)", h.maxAll)
		}
		// A job's delivery is marked done inside the job; its lock is
		// released just after, as the job returns.
		var locks int
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			_ = db.SQL().QueryRow(`SELECT COUNT(*) FROM serial_locks`).Scan(&locks)
			if locks == 0 || time.Now().After(deadline) {
				break
			}
		}
		if locks != 0 {
			t.Errorf("%d serial locks left behind", locks)
		}
	})
}

// TestQueue_DiscardsAfterMaxAttempts: the job is kept as discarded, the
// delivery marked failed, and the metric counts it.
func TestQueue_DiscardsAfterMaxAttempts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHandler()
		h.fail = func(event.Delivery, int) error { return errors.New("github is down") }
		q, reg := startQueue(t, db, h, jobs.Config{Workers: 2, MaxAttempts: 2})
		if _, err := q.Record(context.Background(), delivery("doomed", 1, 1)); err != nil {
			t.Fatal(err)
		}
		waitStatus(t, db, "doomed", event.StatusFailed)
		waitMetric(t, reg, "discarded", 1)
		var state string
		if err := db.SQL().QueryRow(`SELECT state FROM river_job`).Scan(&state); err != nil || state != "discarded" {
			t.Fatalf("job state %q (%v), want discarded", state, err)
		}
		if h.calls["doomed"] != 2 {
			t.Fatalf("handled %d times, want 2", h.calls["doomed"])
		}
	})
}

// TestQueue_PermanentErrorIsNotRetried.
func TestQueue_PermanentErrorIsNotRetried(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHandler()
		h.fail = func(event.Delivery, int) error { return event.Permanent(errors.New("payload will never parse")) }
		q, reg := startQueue(t, db, h, jobs.Config{Workers: 2})
		if _, err := q.Record(context.Background(), delivery("bad", 1, 1)); err != nil {
			t.Fatal(err)
		}
		waitStatus(t, db, "bad", event.StatusFailed)
		waitMetric(t, reg, "cancelled", 1)
		if h.calls["bad"] != 1 {
			t.Fatalf("handled %d times, want 1", h.calls["bad"])
		}
	})
}

// TestQueue_RetriesTransientErrors: a failure, then success on retry.
func TestQueue_RetriesTransientErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHandler()
		h.fail = func(_ event.Delivery, attempt int) error {
			if attempt == 1 {
				return errors.New("503 from GitHub")
			}
			return nil
		}
		q, reg := startQueue(t, db, h, jobs.Config{Workers: 2})
		if _, err := q.Record(context.Background(), delivery("flaky", 1, 1)); err != nil {
			t.Fatal(err)
		}
		waitStatus(t, db, "flaky", event.StatusDone)
		waitMetric(t, reg, "retryable", 1)
		waitMetric(t, reg, "completed", 1)
	})
}

func waitMetric(t *testing.T, reg *prometheus.Registry, outcome string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := metricValue(reg, outcome)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ferry_jobs_total{outcome=%q} = %v (%v), want %v", outcome, got, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func metricValue(reg *prometheus.Registry, outcome string) (float64, error) {
	mfs, err := reg.Gather()
	if err != nil {
		return 0, err
	}
	for _, mf := range mfs {
		if mf.GetName() != "ferry_jobs_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					return m.GetCounter().GetValue(), nil
				}
			}
		}
	}
	return 0, nil
}

// TestQueue_ShutdownInterruptsAndResumes: a job still running at the
// shutdown deadline is interrupted, and runs to completion after a restart.
func TestQueue_ShutdownInterruptsAndResumes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHandler()
		h.hold = time.Hour // until cancelled
		q, err := jobs.New(db, jobs.Config{Workers: 1, PollEvery: 50 * time.Millisecond}, h, prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := q.Record(context.Background(), delivery("long", 1, 1)); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			h.mu.Lock()
			started := h.calls["long"] == 1
			h.mu.Unlock()
			if started {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("job never started")
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_ = q.Stop(ctx) // the deadline passes with the job still running
		if d, _ := db.GetDelivery(context.Background(), "long"); d.Status != event.StatusQueued {
			t.Fatalf("interrupted delivery is %s, want still queued", d.Status)
		}

		h.hold = 0
		startQueue(t, db, h, jobs.Config{Workers: 1})
		waitStatus(t, db, "long", event.StatusDone)
		if h.calls["long"] != 2 {
			t.Fatalf("handled %d times, want 2 (interrupted, then resumed)", h.calls["long"])
		}
	})
}
