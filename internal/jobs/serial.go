package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ferry-ci/ferry/internal/store"
)

// serialMiddleware keeps jobs that share a serial key (one pull request, one
// repository+environment) from running at once, across every worker of every
// replica. A job whose key is held is snoozed, which River does not count as
// an attempt. The lock is a lease in the database that outlives the job's
// timeout a little, so a holder that crashed cannot block the key for long.
//
// Why not River's uniqueness: it prevents duplicate inserts, not concurrent
// runs. Why not a queue per key: queues are static configuration.
func serialMiddleware(db *store.DB, cfg Config) river.WorkerMiddlewareFunc {
	lease := cfg.JobTimeout + cfg.JobTimeout/10
	return func(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
		var args struct {
			Serial string `json:"serial_key"`
		}
		if err := json.Unmarshal(job.EncodedArgs, &args); err != nil {
			return fmt.Errorf("read serial key: %w", err)
		}
		if args.Serial == "" {
			return doInner(ctx)
		}
		holder := strconv.FormatInt(job.ID, 10)
		now := cfg.Now()
		ok, err := db.AcquireSerialLock(ctx, args.Serial, holder, now, now.Add(lease))
		if err != nil {
			return err
		}
		if !ok {
			return river.JobSnooze(cfg.SerialRetry)
		}
		defer func() {
			// Released even when ctx was cancelled (shutdown), else the key
			// would wait for the lease to expire.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.JobTimeout/10)
			defer cancel()
			if err := db.ReleaseSerialLock(rctx, args.Serial, holder); err != nil {
				cfg.Logger.WarnContext(ctx, "release serial lock", "key", args.Serial, "err", err)
			}
		}()
		return doInner(ctx)
	}
}
