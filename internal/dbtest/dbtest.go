// Package dbtest gives tests a fresh, migrated database of each kind ferry
// supports: a SQLite file in a temporary directory, and a new database on
// the PostgreSQL server named by FERRY_TEST_POSTGRES (make test starts one).
// Without that variable PostgreSQL tests skip, except under CI=true, where
// they fail: CI must never skip a real component.
package dbtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/jobs"
	"github.com/ferry-ci/ferry/internal/store"
	"github.com/ferry-ci/ferry/internal/testenv"
)

// EnvPostgres names the variable holding an admin URL of a test server.
const EnvPostgres = "FERRY_TEST_POSTGRES"

// Each runs fn as a subtest on SQLite and on PostgreSQL.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, Open(t, SQLiteURL(t))) })
	t.Run("postgres", func(t *testing.T) { fn(t, Open(t, PostgresURL(t))) })
}

// Open opens and migrates the database at dsn, closing it when t ends.
func Open(t testing.TB, dsn string) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := jobs.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	return db
}

// SQLiteURL returns the address of a new SQLite file.
func SQLiteURL(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "ferry.db")
}

var seq atomic.Int64

// PostgresURL creates an empty database on the test server, dropped when t
// ends, and returns its address.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := testenv.Require(t, EnvPostgres, "an admin URL of a PostgreSQL server: .ci/postgres start")
	dsn, drop, err := CreateDatabase(admin, fmt.Sprintf("ferry_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, seq.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	return dsn
}

// CreateDatabase makes an empty database on the server at admin and returns
// its address and a function that drops it (connections and all).
func CreateDatabase(admin, name string) (dsn string, drop func(), err error) {
	return store.CreatePostgresDatabase(admin, name)
}
