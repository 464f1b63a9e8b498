package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferry-ci/ferry/internal/app"
	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/fixture"
	"github.com/ferry-ci/ferry/internal/jobs"
	"github.com/ferry-ci/ferry/internal/store"
	"github.com/ferry-ci/ferry/internal/webhook"
)

var secret = []byte("the ingest tests' webhook secret")

// ingest builds the real edge: webhook handler → River queue (ingest only,
// so jobs stay where the test can count them) → the database.
func ingest(t *testing.T, db *store.DB) http.Handler {
	t.Helper()
	reg := prometheus.NewRegistry()
	application := app.New(app.Config{Logger: quiet}, app.Deps{Installations: db})
	q, err := jobs.New(db, jobs.Config{Workers: 0, Logger: quiet}, application, reg)
	if err != nil {
		t.Fatal(err)
	}
	return webhook.New(webhook.Config{Secret: secret, Logger: quiet}, q, application, webhook.NewMetrics(reg))
}

func post(h http.Handler, ev, id string, body []byte) int { return postSigned(h, secret, ev, id, body) }

func postSigned(h http.Handler, key []byte, ev, id string, body []byte) int {
	req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", ev)
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", fixture.Sign(key, body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code
}

func count(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestIngest_AllFixtures: every real payload is accepted with a valid
// signature and recorded with its event and action, on both databases.
func TestIngest_AllFixtures(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		h := ingest(t, db)
		stored := 0
		for i, w := range fixture.Webhooks() {
			id := fmt.Sprintf("delivery-%03d", i)
			code := post(h, w.Event, id, w.Payload)
			// Even a payload go-github cannot parse (fixture.Malformed) is
			// kept: the adapter parses it once, when its job runs.
			if code != http.StatusAccepted {
				t.Errorf("%s: status %d, want 202", w.Path(), code)
				continue
			}
			stored++
			d, err := db.GetDelivery(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			var want struct{ Action string }
			_ = json.Unmarshal(w.Payload, &want)
			if d.Event != w.Event || d.Action != want.Action || !bytes.Equal(d.Payload, w.Payload) {
				t.Errorf("%s: stored event=%q action=%q (payload equal: %v), want %q/%q",
					w.Path(), d.Event, d.Action, bytes.Equal(d.Payload, w.Payload), w.Event, want.Action)
			}
		}
		if got := count(t, db, `SELECT COUNT(*) FROM deliveries`); got != stored {
			t.Fatalf("%d deliveries stored, want %d", got, stored)
		}
		queued := count(t, db, `SELECT COUNT(*) FROM deliveries WHERE status = $1`, string(event.StatusQueued))
		if jobs := count(t, db, `SELECT COUNT(*) FROM river_job`); jobs != queued || queued == 0 {
			t.Fatalf("%d jobs for %d queued deliveries", jobs, queued)
		}
	})
}

// TestIngest_DuplicateDelivery: GitHub redelivers with the same id; one job.
func TestIngest_DuplicateDelivery(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		h := ingest(t, db)
		body := fixture.Payload("installation", "created.payload.json")
		for i, want := range []int{http.StatusAccepted, http.StatusOK, http.StatusOK} {
			if got := post(h, "installation", "same-id", body); got != want {
				t.Fatalf("delivery %d: status %d, want %d", i+1, got, want)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM river_job`); n != 1 {
			t.Fatalf("%d jobs, want 1", n)
		}
	})
}

// TestIngest_ReplayUnderNewID: a captured signed request replayed under a
// new delivery id is the same payload (same digest): answered 200
// duplicate, with no second delivery row and no second job, on both
// databases.
func TestIngest_ReplayUnderNewID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		h := ingest(t, db)
		body := fixture.Payload("installation", "created.payload.json")
		for _, c := range []struct {
			id   string
			want int
		}{{"original", http.StatusAccepted}, {"original", http.StatusOK}, {"replayed-1", http.StatusOK}, {"replayed-2", http.StatusOK}} {
			if got := post(h, "installation", c.id, body); got != c.want {
				t.Fatalf("delivery %s: status %d, want %d", c.id, got, c.want)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM river_job`); n != 1 {
			t.Fatalf("%d jobs, want 1", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM deliveries`); n != 1 {
			t.Fatalf("%d deliveries, want 1", n)
		}
		if _, err := db.GetDelivery(context.Background(), "replayed-1"); err == nil {
			t.Fatal("the replay was stored under its new id")
		}
	})
}

// TestIngest_ConcurrentDuplicates: 50 goroutines deliver the same id at
// once; exactly one is accepted and one job exists.
func TestIngest_ConcurrentDuplicates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		h := ingest(t, db)
		body := fixture.Payload("installation", "created.payload.json")
		codes := make(chan int, 50)
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() { codes <- post(h, "installation", "concurrent-id", body) })
		}
		wg.Wait()
		close(codes)
		byCode := map[int]int{}
		for c := range codes {
			byCode[c]++
		}
		if byCode[http.StatusAccepted] != 1 || byCode[http.StatusOK] != 49 {
			t.Fatalf("status counts %v, want one 202 and 49 200", byCode)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM river_job`); n != 1 {
			t.Fatalf("%d jobs, want 1", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM deliveries`); n != 1 {
			t.Fatalf("%d deliveries, want 1", n)
		}
	})
}

// TestIngest_RejectedStoresNothing: a rejected request leaves no trace in
// the database.
func TestIngest_RejectedStoresNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		h := ingest(t, db)
		body := fixture.Payload("ping", "payload.json")
		if code := postSigned(h, []byte("wrong"), "ping", "unsigned", body); code != http.StatusUnauthorized {
			t.Fatalf("status %d", code)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM deliveries`) + count(t, db, `SELECT COUNT(*) FROM river_job`); n != 0 {
			t.Fatalf("%d rows written for a rejected delivery", n)
		}
	})
}

var quiet = slog.New(slog.DiscardHandler)
