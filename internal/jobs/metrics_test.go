package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/jobs"
	"github.com/ferry-ci/ferry/internal/store"
)

// TestQueueMetrics_DepthAndAge: the scrape-time figures an operator pages
// on, read from a real database of each kind. Nobody works this queue
// (an ingest-only replica), so what is due stays due and ages.
func TestQueueMetrics_DepthAndAge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q, reg := startQueue(t, db, newHandler(), jobs.Config{Workers: 0})
		for _, id := range []string{"old", "new", "doomed"} {
			if _, err := q.Record(ctx, delivery(id, 1, 1)); err != nil {
				t.Fatal(err)
			}
		}
		if err := q.EnqueueStep(ctx, "deploy", "d-1", ""); err != nil {
			t.Fatal(err)
		}
		ids := jobIDs(t, db, "delivery") // old, new, doomed
		now := time.Now()
		setJob(t, db, ids[0], "available", now.Add(-10*time.Minute))
		setJob(t, db, ids[2], "discarded", now.Add(-time.Hour))
		// A step snoozed into the future is not late: it waits on purpose.
		exec(t, db, `UPDATE river_job SET state = 'scheduled', scheduled_at = $1 WHERE kind = 'step'`, dbTime(db, now.Add(time.Hour)))

		for _, c := range []struct {
			name   string
			labels map[string]string
			min    float64
			max    float64
		}{
			{"ferry_job_queue_depth", map[string]string{"kind": "delivery", "state": "available"}, 2, 2},
			{"ferry_job_queue_depth", map[string]string{"kind": "delivery", "state": "discarded"}, 1, 1},
			{"ferry_job_queue_depth", map[string]string{"kind": "step", "state": "scheduled"}, 1, 1},
			{"ferry_job_queue_depth", map[string]string{"kind": "step", "state": "discarded"}, 0, 0}, // a zero to compare with
			{"ferry_job_oldest_age_seconds", map[string]string{"kind": "delivery"}, 595, 700},
			{"ferry_job_oldest_age_seconds", map[string]string{"kind": "step"}, 0, 0},
			{"ferry_job_oldest_age_seconds", map[string]string{"kind": "task"}, 0, 0},
		} {
			got, ok := gauge(t, reg, c.name, c.labels)
			if !ok || got < c.min || got > c.max {
				t.Errorf("%s%v = %v (present %v), want %v…%v", c.name, c.labels, got, ok, c.min, c.max)
			}
		}
	})
}

// TestQueueMetrics_ScrapeTimesOut: a database that does not answer fails
// the scrape within the collector's bound instead of holding it (and every
// scrape after it). PostgreSQL: a transaction holding river_job locked
// exclusively blocks the collector's reads.
func TestQueueMetrics_ScrapeTimesOut(t *testing.T) {
	db := dbtest.Open(t, dbtest.PostgresURL(t))
	reg := prometheus.NewRegistry()
	if _, err := jobs.New(db, jobs.Config{}, newHandler(), reg); err != nil {
		t.Fatal(err)
	}
	tx, err := db.SQL().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.Exec(`LOCK TABLE river_job IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = reg.Gather()
	if err == nil || !strings.Contains(err.Error(), "job metrics") {
		t.Fatalf("gather with river_job locked: %v, want a job metrics error", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("scrape took %s", took)
	}
}

// jobIDs lists the ids of a kind's jobs in the order they were inserted.
func jobIDs(t *testing.T, db *store.DB, kind string) []int64 {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT id FROM river_job WHERE kind = $1 ORDER BY id`, kind)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// setJob moves a job to a state, due since at.
func setJob(t *testing.T, db *store.DB, id int64, state string, at time.Time) {
	t.Helper()
	var finalized any
	if state == "discarded" {
		finalized = dbTime(db, at)
	}
	exec(t, db, `UPDATE river_job SET state = $1, scheduled_at = $2, finalized_at = $3 WHERE id = $4`,
		state, dbTime(db, at), finalized, id)
}

func exec(t *testing.T, db *store.DB, query string, args ...any) {
	t.Helper()
	res, err := db.SQL().ExecContext(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%s: %d rows, want 1", query, n)
	}
}

// dbTime is a time as River stores it: text in SQLite, a timestamp in
// PostgreSQL.
func dbTime(db *store.DB, at time.Time) any {
	if db.Dialect() == store.SQLite {
		return at.UTC().Format("2006-01-02 15:04:05.000")
	}
	return at
}

// gauge is the value of the series of name with exactly these labels.
func gauge(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue series
				}
			}
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}
