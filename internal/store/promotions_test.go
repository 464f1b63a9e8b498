package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/promotion"
	"github.com/ferry-ci/ferry/internal/risk"
	"github.com/ferry-ci/ferry/internal/store"
)

// TestPromotions: a production-deploy pull request is saved, updated in
// place, found by number, environment and deploy, and advanced only from
// the states named — a retry that finds it moved changes nothing.
func TestPromotions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		if _, err := db.LatestPromotion(ctx, 7, "production"); !errors.Is(err, promotion.ErrNotFound) {
			t.Fatalf("none yet: %v", err)
		}
		p := promotion.PR{RepositoryID: 7, Environment: "production", Number: 12, Candidate: "c1", Head: "h1", Running: "c0", State: promotion.Open,
			Plan: promotion.Plan{Level: risk.High, Strategy: policy.Canary, Watch: 30 * time.Minute, NeedHuman: []string{"migration"}}, UpdatedAt: at}
		if err := db.SavePromotion(ctx, p); err != nil {
			t.Fatal(err)
		}
		p.Candidate = "c2"
		if err := db.SavePromotion(ctx, p); err != nil {
			t.Fatal(err)
		}
		got, err := db.Promotion(ctx, 7, 12)
		if err != nil || !cmp.Equal(got, p) {
			t.Fatalf("%v: %s", err, cmp.Diff(p, got))
		}
		moved, err := db.AdvancePromotion(ctx, 7, 12, []promotion.State{promotion.Open}, promotion.Merged, "carol", "", at)
		if err != nil || !moved {
			t.Fatalf("merge: %t %v", moved, err)
		}
		if moved, _ := db.AdvancePromotion(ctx, 7, 12, []promotion.State{promotion.Open}, promotion.Merged, "mallory", "", at); moved {
			t.Fatal("advanced twice")
		}
		if _, err := db.AdvancePromotion(ctx, 7, 12, []promotion.State{promotion.Merged}, promotion.Deploying, "", "d1", at); err != nil {
			t.Fatal(err)
		}
		got, err = db.PromotionOfDeploy(ctx, 7, "d1")
		if err != nil || got.State != promotion.Deploying || got.MergedBy != "carol" || got.Candidate != "c2" {
			t.Fatalf("%+v %v", got, err)
		}
		if latest, err := db.LatestPromotion(ctx, 7, "production"); err != nil || latest.Number != 12 {
			t.Fatalf("%+v %v", latest, err)
		}
	})
}
