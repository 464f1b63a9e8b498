package jobs_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"modernc.org/sqlite"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/jobs"
	"github.com/ferry-ci/ferry/internal/store"
)

// countCommits counts the write transactions committed on db's one SQLite
// connection (each is an fsync of the WAL with synchronous=FULL).
func countCommits(tb testing.TB, db *store.DB) *atomic.Int64 {
	tb.Helper()
	var n atomic.Int64
	conn, err := db.SQL().Conn(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		h, ok := dc.(interface{ RegisterCommitHook(sqlite.CommitHookFn) })
		if !ok {
			return fmt.Errorf("%T has no commit hook", dc)
		}
		h.RegisterCommitHook(func() int32 { n.Add(1); return 0 })
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return &n
}

// cpuTime is the CPU time this process has used (user and system).
func cpuTime(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDeliveryJob works b.N recorded deliveries (each with its own
// serial key, as pull requests of different repositories) and reports the
// process's CPU per job and the transactions per job, River's fetches and
// batched completions included: on SQLite the write transactions (each
// its own fsync), on PostgreSQL all committed ones, reads included.
func BenchmarkDeliveryJob(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchDeliveryJob(b, dbtest.Open(b, dbtest.SQLiteURL(b))) })
	b.Run("postgres", func(b *testing.B) { benchDeliveryJob(b, dbtest.Open(b, dbtest.PostgresURL(b))) })
}

func benchDeliveryJob(b *testing.B, db *store.DB) {
	ctx := context.Background()
	ingest, err := jobs.New(db, jobs.Config{}, newHandler(), prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	for i := range b.N {
		if _, err := ingest.Record(ctx, delivery(fmt.Sprint("d", i), int64(i+1), 1)); err != nil {
			b.Fatal(err)
		}
	}
	if err := ingest.Stop(ctx); err != nil {
		b.Fatal(err)
	}
	txs := transactions(b, db)
	q, err := jobs.New(db, jobs.Config{Workers: 4}, newHandler(), prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	tx0, cpu0 := txs(), cpuTime(b)
	if err := q.Start(ctx); err != nil {
		b.Fatal(err)
	}
	for {
		var n int
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE state = 'completed'`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		if n == b.N {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.StopTimer()
	cpu := cpuTime(b) - cpu0
	b.ReportMetric(float64(txs()-tx0)/float64(b.N), "tx/job")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/job")
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := q.Stop(stopCtx); err != nil {
		b.Fatal(err)
	}
	counts, err := db.DeliveryCounts(ctx)
	if err != nil || counts[event.StatusDone] != b.N {
		b.Fatalf("deliveries %v (%v), want %d done", counts, err, b.N)
	}
}

// transactions returns a counter of db's committed transactions: on SQLite
// a commit hook on its one connection, on PostgreSQL the server's count
// (its statistics reach it within a second or so, hence the wait).
func transactions(tb testing.TB, db *store.DB) func() int64 {
	tb.Helper()
	if db.Dialect() == store.SQLite {
		n := countCommits(tb, db)
		return n.Load
	}
	return func() int64 {
		time.Sleep(1500 * time.Millisecond)
		var n int64
		err := db.SQL().QueryRow(`SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
		if err != nil {
			tb.Fatal(err)
		}
		return n
	}
}

// TestCommitHookCountsWritesOnly: the counter above sees writes, not reads.
func TestCommitHookCountsWritesOnly(t *testing.T) {
	db := dbtest.Open(t, dbtest.SQLiteURL(t))
	n := countCommits(t, db)
	var x int
	for range 10 {
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM deliveries`).Scan(&x); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.InTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM serial_locks`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := n.Load(); got != 1 {
		t.Fatalf("%d commits counted, want 1", got)
	}
}
