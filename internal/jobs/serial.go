package jobs

import (
	"context"
	"database/sql"
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
		held := &serialLock{key: args.Serial, holder: holder}
		defer func() {
			if held.released {
				return // in the transaction that finished the job
			}
			// Released even when ctx was cancelled (shutdown), else the key
			// would wait for the lease to expire.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.JobTimeout/10)
			defer cancel()
			if err := db.ReleaseSerialLock(rctx, args.Serial, holder); err != nil {
				cfg.Logger.WarnContext(ctx, "release serial lock", "key", args.Serial, "err", err)
			}
		}()
		return doInner(context.WithValue(ctx, serialLockKey{}, held))
	}
}

// serialLock is the lock a running job holds. A worker that ends its job in
// a transaction of its own releases the lock there (releaseIn), sparing a
// commit — an fsync on SQLite — per job; otherwise the middleware does.
type serialLock struct {
	key, holder string
	released    bool // set by the job, read by the middleware: one goroutine
}

type serialLockKey struct{}

// heldSerialLock is the lock the job running with ctx holds, or nil.
func heldSerialLock(ctx context.Context) *serialLock {
	l, _ := ctx.Value(serialLockKey{}).(*serialLock)
	return l
}

// releaseIn releases l in tx; call committed once tx has committed.
func (l *serialLock) releaseIn(ctx context.Context, tx *sql.Tx) error {
	if l == nil {
		return nil
	}
	return store.ReleaseSerialLockTx(ctx, tx, l.key, l.holder)
}

// committed records that the transaction holding releaseIn committed.
func (l *serialLock) committed() {
	if l != nil {
		l.released = true
	}
}
