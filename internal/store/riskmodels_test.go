package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/assessment"
	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/store"
)

// TestRiskModelVersions: the first save creates, each save advances the
// version, and a save from a stale load is refused (two jobs learning at
// once never overwrite each other).
func TestRiskModelVersions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, at := context.Background(), time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		m, err := db.RiskModel(ctx, 7)
		if err != nil || m.Version != 0 {
			t.Fatalf("none yet: %+v %v", m, err)
		}
		state := bytes.Repeat([]byte{0, 1, 2, 255}, 1000)
		if err := db.SaveRiskModel(ctx, 7, assessment.Model{State: state, Changes: 10, HeadSHA: "a"}, at); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveRiskModel(ctx, 7, assessment.Model{State: state, Changes: 10, HeadSHA: "b"}, at); !errors.Is(err, assessment.ErrStaleModel) {
			t.Fatalf("a second first save: %v", err)
		}
		m, err = db.RiskModel(ctx, 7)
		if err != nil || m.Version != 1 || !bytes.Equal(m.State, state) || m.Changes != 10 || m.HeadSHA != "a" {
			t.Fatalf("loaded %d bytes, version %d, %v", len(m.State), m.Version, err)
		}
		m.HeadSHA = "c"
		if err := db.SaveRiskModel(ctx, 7, m, at); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveRiskModel(ctx, 7, m, at); !errors.Is(err, assessment.ErrStaleModel) {
			t.Fatalf("a save from a stale load: %v", err)
		}
	})
}
