// Package store keeps ferry's durable state in SQLite (the embedded default)
// or PostgreSQL behind one database/sql layer: the same SQL text and the same
// migrations run on both.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect names a supported database.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrBadDSN is returned for a database address ferry cannot use.
var ErrBadDSN = errors.New("database must be sqlite:PATH or postgres://…")

// DB is an open database.
type DB struct {
	sql     *sql.DB
	dialect Dialect
	pool    *pgxpool.Pool // PostgreSQL only: River listens for notifications through it
}

// Open connects to dsn: "sqlite:PATH" (a file, created if absent) or a
// "postgres://" / "postgresql://" URL. It does not migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	}
	return nil, ErrBadDSN
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: sqlite path is empty", ErrBadDSN)
	}
	q := url.Values{}
	// WAL lets readers run beside the writer; FULL sync because an
	// acknowledged delivery must survive power loss, not only a crash;
	// immediate transactions take the write lock up front so two writers
	// wait on the busy timeout instead of failing an upgrade.
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// SQLite has one writer. One connection serializes ferry's and River's
	// writes in process instead of having them fail with SQLITE_BUSY.
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &DB{sql: db, dialect: SQLite}, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		// pgx's default (max(4, CPUs)) queues webhook requests behind job
		// workers under a burst; pool_max_conns in the URL overrides this.
		cfg.MaxConns = 16
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return &DB{sql: stdlib.OpenDBFromPool(pool), dialect: Postgres, pool: pool}, nil
}

// SQL returns the database/sql handle shared by the store and the job queue.
func (db *DB) SQL() *sql.DB { return db.sql }

// Dialect tells which database this is.
func (db *DB) Dialect() Dialect { return db.dialect }

// PgxPool returns the PostgreSQL pool (nil on SQLite).
func (db *DB) PgxPool() *pgxpool.Pool { return db.pool }

// Close releases the database.
func (db *DB) Close() error {
	err := db.sql.Close()
	if db.pool != nil {
		db.pool.Close()
	}
	return err
}

func (db *DB) goose() (*goose.Provider, error) {
	dialect := goose.DialectSQLite3
	if db.dialect == Postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, db.sql, mustSub(migrations, "migrations"))
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}

// Migrate applies ferry's pending migrations and returns the schema version.
func (db *DB) Migrate(ctx context.Context) (int64, error) {
	p, err := db.goose()
	if err != nil {
		return 0, err
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// ErrNotMigrated means the schema is behind the binary.
var ErrNotMigrated = errors.New("database schema has pending migrations")

// Ready reports whether the database answers and its schema is current.
func (db *DB) Ready(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	p, err := db.goose()
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("check migrations: %w", err)
	}
	if pending {
		return ErrNotMigrated
	}
	return nil
}

// InTx runs fn in a transaction, committing when it returns nil.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // dir is a literal naming an embedded directory
	}
	return sub
}

// migrationLock is the PostgreSQL advisory lock replicas take to migrate
// one at a time (an arbitrary constant: "ferry" in ASCII).
const migrationLock = 0x6665727279

// Exclusively runs fn while holding the database-wide migration lock on
// PostgreSQL, so replicas starting together migrate one after another and
// the others find the schema current; SQLite has one writer anyway.
func (db *DB) Exclusively(ctx context.Context, fn func() error) error {
	if db.dialect != Postgres {
		return fn()
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer func() {
		// A dropped connection releases the lock too.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	}()
	return fn()
}
