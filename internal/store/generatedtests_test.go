package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/gentest"
	"github.com/ferry-ci/ferry/internal/store"
)

// TestGeneratedTests: a source pull request's generated tests are saved,
// found by number and by the commit CI judges, and advanced only from the
// state and commit named — the second of two jobs acting on one round's
// results changes nothing.
func TestGeneratedTests(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		if _, err := db.GeneratedTests(ctx, 7, 3); !errors.Is(err, gentest.ErrNotFound) {
			t.Fatalf("none yet: %v", err)
		}
		r := gentest.Record{RepositoryID: 7, Number: 3, Branch: gentest.Branch(3), HeadRef: "feature", HeadSHA: "h1", Round: 1, State: gentest.Pushing,
			Candidates: []gentest.Candidate{{Name: "TestA", File: "a/a_test.go", Source: "package a", Origin: "fuzz", Target: "A", Kept: true}},
			Usage:      gentest.Usage{Model: "m", PromptTokens: 10, CompletionTokens: 5}, UpdatedAt: at}
		if ok, err := db.CreateGeneratedTests(ctx, r); err != nil || !ok {
			t.Fatalf("create: %t %v", ok, err)
		}
		if ok, err := db.CreateGeneratedTests(ctx, r); err != nil || ok {
			t.Fatalf("created twice: %t %v", ok, err)
		}
		pushed := r
		pushed.State, pushed.Tip = gentest.WaitingCI, "t1"
		if ok, err := db.AdvanceGeneratedTests(ctx, pushed, gentest.Pushing, ""); err != nil || !ok {
			t.Fatalf("advance: %t %v", ok, err)
		}
		if ok, err := db.AdvanceGeneratedTests(ctx, pushed, gentest.Pushing, ""); err != nil || ok {
			t.Fatalf("advanced twice: %t %v", ok, err)
		}
		got, err := db.GeneratedTestsAt(ctx, 7, "t1")
		if err != nil || !cmp.Equal(got, pushed) {
			t.Fatalf("%v: %s", err, cmp.Diff(pushed, got))
		}
		if got, err := db.GeneratedTests(ctx, 7, 3); err != nil || got.State != gentest.WaitingCI {
			t.Fatalf("%+v %v", got, err)
		}
		if _, err := db.GeneratedTestsAt(ctx, 7, "t0"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another commit: %v", err)
		}
	})
}
