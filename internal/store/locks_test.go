package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/store"
)

func TestSerialLock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
		steps := []struct {
			name   string
			op     string // acquire or release
			holder string
			now    time.Time
			want   bool
		}{
			{"free key", "acquire", "a", t0, true},
			{"held by another", "acquire", "b", t0.Add(time.Second), false},
			{"holder extends", "acquire", "a", t0.Add(2 * time.Second), true},
			{"stranger cannot release", "release", "b", t0, false},
			{"still held", "acquire", "b", t0.Add(3 * time.Second), false},
			{"expired lease is taken over", "acquire", "b", t0.Add(time.Hour), true},
			{"old holder lost it", "acquire", "a", t0.Add(time.Hour), false},
			{"released", "release", "b", t0, false},
			{"free again", "acquire", "a", t0.Add(time.Hour), true},
		}
		for _, s := range steps {
			switch s.op {
			case "acquire":
				got, err := db.AcquireSerialLock(ctx, "repo/1/pr/7", s.holder, s.now, s.now.Add(time.Minute))
				if err != nil {
					t.Fatal(err)
				}
				if got != s.want {
					t.Fatalf("%s: acquired=%v, want %v", s.name, got, s.want)
				}
			case "release":
				if err := db.ReleaseSerialLock(ctx, "repo/1/pr/7", s.holder); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// TestSerialLock_ReleasedWithItsTransaction: a release inside a transaction
// takes effect when it commits, and not at all when it rolls back.
func TestSerialLock_ReleasedWithItsTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
		if ok, err := db.AcquireSerialLock(ctx, "k", "a", now, now.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("acquire: %v %v", ok, err)
		}
		rollback := errors.New("rolled back")
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			if err := store.ReleaseSerialLockTx(ctx, tx, "k", "a"); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		if ok, err := db.AcquireSerialLock(ctx, "k", "b", now, now.Add(time.Minute)); err != nil || ok {
			t.Fatalf("after a rolled-back release, another holder acquired=%v (%v), want false", ok, err)
		}
		if err := db.InTx(ctx, func(tx *sql.Tx) error { return store.ReleaseSerialLockTx(ctx, tx, "k", "a") }); err != nil {
			t.Fatal(err)
		}
		if ok, err := db.AcquireSerialLock(ctx, "k", "b", now, now.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("after a committed release, another holder acquired=%v (%v), want true", ok, err)
		}
	})
}

func TestReadyAndMigrateIdempotent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.Ready(ctx); err != nil {
			t.Fatalf("ready: %v", err)
		}
		v1, err := db.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		v2, err := db.Migrate(ctx)
		if err != nil || v1 != v2 || v1 < 1 {
			t.Fatalf("migrate twice: %d, %d, %v", v1, v2, err)
		}
	})
}

func TestNotMigratedIsNotReady(t *testing.T) {
	db, err := store.Open(context.Background(), dbtest.SQLiteURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ready(context.Background()); err == nil {
		t.Fatal("fresh database reported ready")
	}
}

func TestOpenRejectsUnknownDSN(t *testing.T) {
	for _, dsn := range []string{"mysql://x", "ferry.db", "sqlite:"} {
		if _, err := store.Open(context.Background(), dsn); err == nil {
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
}
