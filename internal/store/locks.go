package store

import (
	"context"
	"fmt"
	"time"
)

// AcquireSerialLock takes the lease on key for holder until expires, if no
// other holder has an unexpired lease. Taking it again as the same holder
// extends it.
func (db *DB) AcquireSerialLock(ctx context.Context, key, holder string, now, expires time.Time) (bool, error) {
	res, err := db.sql.ExecContext(ctx, `
		INSERT INTO serial_locks (lock_key, holder, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (lock_key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE serial_locks.holder = excluded.holder OR serial_locks.expires_at < $4`,
		key, holder, expires.UTC(), now.UTC())
	if err != nil {
		return false, fmt.Errorf("acquire lock %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("acquire lock %s: %w", key, err)
	}
	return n == 1, nil
}

// ReleaseSerialLock gives up holder's lease on key (a no-op if it lost it).
func (db *DB) ReleaseSerialLock(ctx context.Context, key, holder string) error {
	return ReleaseSerialLockTx(ctx, db.sql, key, holder)
}

// ReleaseSerialLockTx is ReleaseSerialLock in q, so a job can give up its
// lock in the transaction that records how its delivery ended.
func ReleaseSerialLockTx(ctx context.Context, q Querier, key, holder string) error {
	_, err := q.ExecContext(ctx, `DELETE FROM serial_locks WHERE lock_key = $1 AND holder = $2`, key, holder)
	if err != nil {
		return fmt.Errorf("release lock %s: %w", key, err)
	}
	return nil
}
