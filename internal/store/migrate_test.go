package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/jobs"
	"github.com/ferry-ci/ferry/internal/store"
)

// TestMigrate_ReplicasStartTogether: replicas starting at once on a fresh
// PostgreSQL migrate one at a time (the first applies, the others find the
// schema current), ferry's tables and River's alike.
func TestMigrate_ReplicasStartTogether(t *testing.T) {
	dsn := dbtest.PostgresURL(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := store.Open(ctx, dsn)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			errs[i] = db.Exclusively(ctx, func() error {
				if _, err := db.Migrate(ctx); err != nil {
					return err
				}
				return jobs.Migrate(ctx, db)
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
}
