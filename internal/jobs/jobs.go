// Package jobs is ferry's durable job queue: River on the same database as
// the store, so a delivery and the job that handles it are written in one
// transaction and survive any crash after the webhook's 202.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/store"
)

// Handler handles one stored delivery. It may run more than once for the same
// delivery (a crash after its side effects, before completion), so it must be
// idempotent. An error wrapped with event.Permanent is not retried.
type Handler interface {
	HandleDelivery(ctx context.Context, d event.Delivery) error
}

// Config tunes the queue. Zero values take the defaults noted.
type Config struct {
	// Workers is how many jobs run at once; 0 makes an ingest-only replica
	// that records deliveries and leaves the work to others.
	Workers     int
	MaxAttempts int           // attempts before a job is discarded (default 10)
	JobTimeout  time.Duration // a job running longer is cancelled and retried (default 5m)
	// PollEvery is how often idle workers look for jobs (default: 100ms on
	// SQLite, which has no notifications, so polling is what a user waits
	// on; 250ms on PostgreSQL, where LISTEN/NOTIFY wakes them at once — but
	// measured, about one wake-up in six did not lead to a fetch, so the
	// poll bounds the tail).
	PollEvery time.Duration
	// SerialRetry is how soon a job waiting for its pull request's (or
	// environment's) lock looks again (default 500ms).
	SerialRetry time.Duration
	Periodic    []Periodic
	Steps       map[string]Step // durable work in steps, by name (CreateDeploy)
	Logger      *slog.Logger
	Now         func() time.Time
}

func (c Config) withDefaults() Config {
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 10
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = 5 * time.Minute
	}
	if c.SerialRetry <= 0 {
		c.SerialRetry = 500 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Queue records deliveries with their jobs and works them.
type Queue struct {
	db      *store.DB
	cfg     Config
	client  *river.Client[*sql.Tx]
	metrics *metrics
	stop    chan struct{} // ends the metrics subscription
	done    chan struct{} // closed when it has ended
	// Group commit of deliveries (batch.go).
	pending   chan *pending
	batchStop chan struct{}
	batchDone chan struct{}
	batchSize prometheus.Histogram
	stopOnce  sync.Once
}

// New builds a queue on db. reg receives the queue's metrics.
func New(db *store.DB, cfg Config, h Handler, reg prometheus.Registerer) (*Queue, error) {
	cfg = cfg.withDefaults()
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = 250 * time.Millisecond
		if db.Dialect() == store.SQLite {
			cfg.PollEvery = 100 * time.Millisecond
		}
	}
	q := &Queue{db: db, cfg: cfg, metrics: newMetrics(reg, db),
		stop: make(chan struct{}), done: make(chan struct{}),
		pending: make(chan *pending, maxBatch), batchStop: make(chan struct{}), batchDone: make(chan struct{}),
		batchSize: newBatchHistogram(reg)}
	workers := river.NewWorkers()
	river.AddWorker(workers, &deliveryWorker{db: db, handler: h, now: cfg.Now, log: cfg.Logger})
	tasks := map[string]func(context.Context) error{}
	for _, p := range cfg.Periodic {
		tasks[p.Name] = p.Run
	}
	river.AddWorker(workers, &taskWorker{tasks: tasks})
	river.AddWorker(workers, &stepWorker{steps: cfg.Steps})
	rc := &river.Config{
		Logger:      cfg.Logger.With("component", "river"),
		MaxAttempts: cfg.MaxAttempts,
		JobTimeout:  cfg.JobTimeout,
		// A job still "running" this long after its timeout belonged to a
		// process that died; River makes it available again.
		RescueStuckJobsAfter: cfg.JobTimeout + max(cfg.JobTimeout/2, 5*time.Second),
		FetchPollInterval:    cfg.PollEvery,
		FetchCooldown:        min(cfg.PollEvery, 10*time.Millisecond),
		Workers:              workers,
		Middleware:           []rivertype.Middleware{serialMiddleware(db, cfg)},
		PeriodicJobs:         periodicJobs(cfg.Periodic),
	}
	if cfg.Workers > 0 {
		// Deliveries in their own queue (see deliveryQueue); each queue
		// runs up to Workers jobs.
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}, deliveryQueue: {MaxWorkers: cfg.Workers}}
	}
	client, err := river.NewClient(driver(db), rc)
	if err != nil {
		return nil, fmt.Errorf("create job client: %w", err)
	}
	q.client = client
	go q.committer()
	return q, nil
}

func driver(db *store.DB) riverdriver.Driver[*sql.Tx] {
	if db.Dialect() == store.Postgres {
		// database/sql for everything, so store writes and job inserts share
		// a *sql.Tx; pgx only for LISTEN, which makes pickup immediate.
		return riverdatabasesql.NewWithPgxListener(db.SQL(), db.PgxPool())
	}
	return riversqlite.New(db.SQL())
}

// Migrate applies River's own migrations.
func Migrate(ctx context.Context, db *store.DB) error {
	m, err := rivermigrate.New(driver(db), nil)
	if err != nil {
		return fmt.Errorf("job migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job migrations: %w", err)
	}
	return nil
}

// Ready reports whether River's tables are current.
func Ready(ctx context.Context, db *store.DB) error {
	m, err := rivermigrate.New(driver(db), nil)
	if err != nil {
		return fmt.Errorf("job migrations: %w", err)
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("check job migrations: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("job tables: %v", res.Messages)
	}
	return nil
}

// Record stores d and, if it has a handler (Status Queued), its job, in one
// transaction — shared with the deliveries that arrive while the previous
// one commits (group commit). A delivery seen before (same id or same
// payload) is a duplicate and creates nothing. A cancelled ctx returns at
// once; the delivery may still be committed (a redelivery is a duplicate).
func (q *Queue) Record(ctx context.Context, d event.Delivery) (event.Outcome, error) {
	p := &pending{d: d, done: make(chan recorded, 1)}
	select {
	case q.pending <- p:
	case <-q.batchStop:
		return "", errors.New("record delivery: the queue is stopping")
	case <-ctx.Done():
		return "", ctx.Err()
	}
	select {
	case r := <-p.done:
		return r.outcome, r.err
	case <-q.batchDone:
		// Handed over as the queue stopped: committed by its last drain,
		// or never taken (a 503; GitHub's redelivery is not a duplicate).
		select {
		case r := <-p.done:
			return r.outcome, r.err
		default:
			return "", errors.New("record delivery: the queue stopped first")
		}
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Start begins working jobs (a no-op for an ingest-only queue).
func (q *Queue) Start(ctx context.Context) error {
	if q.cfg.Workers == 0 {
		close(q.done)
		return nil
	}
	events, cancel := q.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed,
		river.EventKindJobCancelled, river.EventKindJobSnoozed)
	go func() {
		defer close(q.done)
		defer cancel()
		q.metrics.consume(events, q.stop)
	}()
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("start jobs: %w", err)
	}
	return nil
}

// Stop lets running jobs finish until ctx ends, then cancels them; River
// makes cancelled jobs available again, so they run after a restart.
func (q *Queue) Stop(ctx context.Context) error {
	q.stopBatches()
	if q.cfg.Workers == 0 {
		return nil
	}
	err := q.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		q.cfg.Logger.Warn("shutdown deadline reached; interrupting running jobs")
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err = q.client.StopAndCancel(stopCtx)
	}
	close(q.stop)
	<-q.done
	if err != nil {
		return fmt.Errorf("stop jobs: %w", err)
	}
	return nil
}
