package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/store"
)

// TestDeliveryPayload: a payload is stored compressed when that shrinks
// it and read back byte for byte; a small one, and a row written before
// payloads were compressed (the JSON itself), read back as they are.
func TestDeliveryPayload(t *testing.T) {
	pr, err := os.ReadFile(filepath.Join("..", "fixture", "testdata", "webhooks", "pull_request", "opened.payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		mk := func(id string, payload []byte) event.Delivery {
			sum := sha256.Sum256(payload)
			return event.Delivery{ID: id, Event: "pull_request", ReceivedAt: at, Payload: payload,
				Digest: hex.EncodeToString(sum[:]), Status: event.StatusQueued}
		}
		small := []byte(`{"action":"opened"}`)
		inserted, err := store.InsertDeliveries(ctx, db.SQL(), []event.Delivery{mk("big", pr), mk("small", small)})
		if err != nil || !inserted["big"] || !inserted["small"] {
			t.Fatalf("insert: %v, %v", inserted, err)
		}
		// A row as ferry wrote it before compression.
		legacy := append([]byte(" \n"), pr[:len(pr)-1]...) // still JSON, another digest
		legacy = append(legacy, '}')
		d := mk("legacy", legacy)
		if _, err := db.SQL().ExecContext(ctx, `INSERT INTO deliveries (id, event, received_at, payload, payload_sha256, status)
			VALUES ($1, $2, $3, $4, $5, $6)`, d.ID, d.Event, at, string(legacy), d.Digest, string(d.Status)); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string][]byte{"big": pr, "small": small, "legacy": legacy} {
			got, err := db.GetDelivery(ctx, id)
			if err != nil || !bytes.Equal(got.Payload, want) {
				t.Errorf("%s: %d bytes back (%v), want %d", id, len(got.Payload), err, len(want))
			}
		}
		var col string
		if err := db.SQL().QueryRowContext(ctx, `SELECT payload FROM deliveries WHERE id = 'big'`).Scan(&col); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(col, "s2:") || len(col) > len(pr)/4 {
			t.Errorf("stored %d bytes (%.10q…) for a %d-byte payload, want it compressed", len(col), col, len(pr))
		}
		// Dedupe is by the payload's own digest, not its stored form.
		if inserted, err := store.InsertDeliveries(ctx, db.SQL(), []event.Delivery{mk("replay", pr)}); err != nil || inserted["replay"] {
			t.Errorf("a replay of the same bytes was inserted (%v)", err)
		}
	})
}
