package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/store"
)

// TestRetention: payloads of deliveries handled or ignored before the
// cutoff are blanked — in chunks, however many — while failed, queued and
// recent ones keep theirs; a blanked delivery still makes its redelivery
// and its replay duplicates.
func TestRetention(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		old, recent := now.Add(-40*24*time.Hour), now.Add(-time.Hour)
		mk := func(id string, at time.Time, st event.Status) event.Delivery {
			payload := `{"id":"` + id + `"}`
			sum := sha256.Sum256([]byte(payload))
			return event.Delivery{ID: id, Event: "push", ReceivedAt: at, Payload: []byte(payload), Digest: hex.EncodeToString(sum[:]), Status: st}
		}
		want := map[string]bool{} // id → blanked
		var all []event.Delivery
		for i := range 1203 { // more than two chunks
			d := mk("old-done-"+strconv.Itoa(i), old, event.StatusDone)
			all, want[d.ID] = append(all, d), true
		}
		for _, c := range []struct {
			id    string
			at    time.Time
			st    event.Status
			blank bool
		}{{"old-ignored", old, event.StatusIgnored, true}, {"old-failed", old, event.StatusFailed, false},
			{"old-queued", old, event.StatusQueued, false}, {"recent-done", recent, event.StatusDone, false}} {
			d := mk(c.id, c.at, c.st)
			all, want[d.ID] = append(all, d), c.blank
		}
		for _, d := range all {
			if _, err := store.InsertDelivery(ctx, db.SQL(), d); err != nil {
				t.Fatal(err)
			}
		}
		n, err := db.BlankPayloads(ctx, now.Add(-30*24*time.Hour))
		if err != nil || n != 1204 {
			t.Fatalf("blanked %d, %v", n, err)
		}
		for _, id := range []string{"old-done-0", "old-done-1202", "old-ignored", "old-failed", "old-queued", "recent-done"} {
			d, err := db.GetDelivery(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if blank := len(d.Payload) == 0; blank != want[id] || d.Digest == "" {
				t.Errorf("%s: blank %t, digest %q", id, blank, d.Digest)
			}
		}
		// The same id again, and the same signed bytes under a new id: both duplicates.
		again := all[0]
		replay := again
		replay.ID = "replayed"
		for _, d := range []event.Delivery{again, replay} {
			if inserted, err := store.InsertDelivery(ctx, db.SQL(), d); err != nil || inserted {
				t.Fatalf("%s inserted again (%v)", d.ID, err)
			}
		}
		if n, err := db.BlankPayloads(ctx, now.Add(-30*24*time.Hour)); err != nil || n != 0 {
			t.Fatalf("second run blanked %d, %v", n, err)
		}
	})
}
