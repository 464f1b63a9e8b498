package jobs_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

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

// bigDelivery is delivery with a payload large enough to be stored
// compressed.
func bigDelivery(id string, repo int64, number int) event.Delivery {
	d := delivery(id, repo, number)
	d.Payload = []byte(fmt.Sprintf(`{"action":"opened","number":%d,"repository":{"id":%d,"full_name":"o/r"},"body":%q}`,
		number, repo, strings.Repeat("a change that touches many files. ", 100)))
	sum := sha256.Sum256(d.Payload)
	d.Digest = hex.EncodeToString(sum[:])
	return d
}

// TestQueue_CorruptPayloadFailsAtOnce: a stored payload that no longer
// reads back as what was recorded (S2 carries no checksum; the digest
// does) fails its delivery at once — never handled, never retried, and
// not left queued.
func TestQueue_CorruptPayloadFailsAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		ingest, _ := startQueue(t, db, newHandler(), jobs.Config{Workers: 0})
		if _, err := ingest.Record(context.Background(), bigDelivery("rot", 9, 5)); err != nil {
			t.Fatal(err)
		}
		var col string
		if err := db.SQL().QueryRow(`SELECT payload FROM deliveries WHERE id = 'rot'`).Scan(&col); err != nil || !strings.HasPrefix(col, "s2:") {
			t.Fatalf("payload stored as %.20q (%v), want compressed", col, err)
		}
		other, _ := json.Marshal(map[string]string{"action": "closed"}) // decodes, to other bytes
		if _, err := db.SQL().Exec(`UPDATE deliveries SET payload = $1 WHERE id = 'rot'`,
			"s2:"+base64.StdEncoding.EncodeToString(s2.Encode(nil, other))); err != nil {
			t.Fatal(err)
		}
		h := newHandler()
		_, reg := startQueue(t, db, h, jobs.Config{Workers: 1})
		waitMetric(t, reg, "cancelled", 1)
		var status, errText string
		if err := db.SQL().QueryRow(`SELECT status, error FROM deliveries WHERE id = 'rot'`).Scan(&status, &errText); err != nil {
			t.Fatal(err)
		}
		if status != string(event.StatusFailed) || !strings.Contains(errText, "corrupt") {
			t.Errorf("delivery is %s (%q), want failed as corrupt", status, errText)
		}
		if h.calls["rot"] != 0 {
			t.Errorf("handled %d times", h.calls["rot"])
		}
	})
}

// TestQueue_OlderReplicasNeverTakeDeliveries: delivery jobs go to their
// own River queue, so a replica from before payloads were compressed —
// which works only River's default queue — never takes one it cannot read
// during a rolling upgrade; this version's workers do.
func TestQueue_OlderReplicasNeverTakeDeliveries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		ingest, _ := startQueue(t, db, newHandler(), jobs.Config{Workers: 0})
		if _, err := ingest.Record(context.Background(), bigDelivery("new", 9, 6)); err != nil {
			t.Fatal(err)
		}
		// An older replica: River working the default queue, with a worker
		// for delivery jobs.
		var old atomic.Int32
		workers := river.NewWorkers()
		river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[jobs.DeliveryArgs]) error {
			old.Add(1)
			return nil
		}))
		cfg := &river.Config{Workers: workers, FetchPollInterval: 20 * time.Millisecond, FetchCooldown: 10 * time.Millisecond,
			Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}}, Logger: slog.New(slog.DiscardHandler)}
		var c interface {
			Start(context.Context) error
			Stop(context.Context) error
		}
		var err error
		if db.Dialect() == store.SQLite {
			c, err = river.NewClient(riversqlite.New(db.SQL()), cfg)
		} else {
			c, err = river.NewClient(riverdatabasesql.New(db.SQL()), cfg)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // many fetches
		if err := c.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := old.Load(); n != 0 {
			t.Fatalf("an older replica took %d delivery jobs", n)
		}
		h := newHandler()
		startQueue(t, db, h, jobs.Config{Workers: 1})
		waitStatus(t, db, "new", event.StatusDone)
		if h.calls["new"] != 1 {
			t.Errorf("handled %d times", h.calls["new"])
		}
	})
}

// TestQueue_FinishedDeliveryNotHandledAgain: a job whose delivery is
// already finished (its earlier run committed the finish, then the process
// died before River recorded the job complete) completes without running
// the handler again.
func TestQueue_FinishedDeliveryNotHandledAgain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		ingest, _ := startQueue(t, db, newHandler(), jobs.Config{Workers: 0})
		for _, id := range []string{"was-done", "was-failed", "fresh"} {
			if _, err := ingest.Record(context.Background(), delivery(id, 9, 7)); err != nil {
				t.Fatal(err)
			}
		}
		for id, st := range map[string]event.Status{"was-done": event.StatusDone, "was-failed": event.StatusFailed} {
			if err := db.FinishDelivery(context.Background(), id, st, "", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		h := newHandler()
		_, reg := startQueue(t, db, h, jobs.Config{Workers: 1})
		waitMetric(t, reg, "completed", 3)
		waitStatus(t, db, "fresh", event.StatusDone)
		if h.calls["was-done"]+h.calls["was-failed"] != 0 || h.calls["fresh"] != 1 {
			t.Errorf("handled %v", h.calls)
		}
	})
}
