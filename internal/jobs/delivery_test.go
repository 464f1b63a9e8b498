package jobs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/jobs"
	"github.com/ferry-ci/ferry/internal/store"
)

// failFinish makes marking a delivery done fail (a trigger) until the flag
// table is emptied: what a crash before the finishing commit leaves behind.
func failFinish(t *testing.T, db *store.DB) {
	t.Helper()
	stmts := []string{`CREATE TABLE fail_finish (x INTEGER)`, `INSERT INTO fail_finish VALUES (1)`}
	if db.Dialect() == store.SQLite {
		stmts = append(stmts, `CREATE TRIGGER fail_finish BEFORE UPDATE OF status ON deliveries
			WHEN NEW.status = 'done' AND EXISTS (SELECT 1 FROM fail_finish)
			BEGIN SELECT RAISE(ABORT, 'injected: finishing fails'); END`)
	} else {
		stmts = append(stmts, `CREATE FUNCTION fail_finish() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF EXISTS (SELECT 1 FROM fail_finish) THEN RAISE EXCEPTION 'injected: finishing fails'; END IF;
				RETURN NEW;
			END $$`,
			`CREATE TRIGGER fail_finish BEFORE UPDATE OF status ON deliveries
			FOR EACH ROW WHEN (NEW.status = 'done') EXECUTE FUNCTION fail_finish()`)
	}
	for _, s := range stmts {
		if _, err := db.SQL().Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestQueue_FinishFailsThenRetried: the delivery is marked done and the
// job's serial lock released in one transaction; when it fails (as a crash
// would), the delivery is not done, the job is retried, and no lock is
// left behind.
func TestQueue_FinishFailsThenRetried(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		failFinish(t, db)
		h := newHandler()
		onRetry := make(chan event.Status, 1)
		h.fail = func(d event.Delivery, attempt int) error {
			if attempt == 2 {
				got, err := db.GetDelivery(context.Background(), d.ID)
				if err != nil {
					return err
				}
				onRetry <- got.Status
				_, err = db.SQL().Exec(`DELETE FROM fail_finish`)
				return err
			}
			return nil
		}
		q, reg := startQueue(t, db, h, jobs.Config{Workers: 2})
		if _, err := q.Record(context.Background(), delivery("crash", 9, 3)); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-onRetry:
			if got != event.StatusQueued {
				t.Errorf("delivery was %s when its job was retried, want %s", got, event.StatusQueued)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the job whose finish failed was not retried")
		}
		waitStatus(t, db, "crash", event.StatusDone)
		waitMetric(t, reg, "retryable", 1)
		waitMetric(t, reg, "completed", 1)
		if h.calls["crash"] != 2 {
			t.Errorf("handled %d times, want 2", h.calls["crash"])
		}
		var locks int
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM serial_locks`).Scan(&locks); err != nil || locks != 0 {
			t.Errorf("%d serial locks left (%v)", locks, err)
		}
	})
}

// TestQueue_FailedDeliveryReleasesItsLock: a delivery that fails for good
// is recorded failed and its lock released with it.
func TestQueue_FailedDeliveryReleasesItsLock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHandler()
		h.fail = func(event.Delivery, int) error { return event.Permanent(errors.New("never parses")) }
		q, _ := startQueue(t, db, h, jobs.Config{Workers: 2})
		if _, err := q.Record(context.Background(), delivery("bad", 9, 4)); err != nil {
			t.Fatal(err)
		}
		waitStatus(t, db, "bad", event.StatusFailed)
		var locks int
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM serial_locks`).Scan(&locks); err != nil || locks != 0 {
			t.Errorf("%d serial locks left (%v)", locks, err)
		}
	})
}
