package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river/rivertype"

	"github.com/ferry-ci/ferry/internal/store"
)

// scrapeTimeout bounds the database work of one scrape: a database slower
// than that fails the scrape (which is itself worth an alert) rather than
// piling up scrapes behind it.
const scrapeTimeout = 2 * time.Second

// queueCollector reports, when scraped, how many jobs are in each state by
// kind, and how long the oldest due job of each kind has waited. Both are
// GROUP BYs over River's few states and ferry's three kinds, so the answer
// is small whatever the queue holds.
type queueCollector struct{ db *store.DB }

var (
	depthDesc = prometheus.NewDesc("ferry_job_queue_depth",
		"Jobs by kind and state (available, scheduled, retryable, running, completed, discarded, …) at scrape time.",
		[]string{"kind", "state"}, nil)
	ageDesc = prometheus.NewDesc("ferry_job_oldest_age_seconds",
		"How long the oldest due job of a kind (available, or scheduled or retryable and past its time) has waited, at scrape time; 0 when none waits.",
		[]string{"kind"}, nil)
)

// jobKinds are the kinds ferry enqueues. Each gets its series even with no
// jobs, so an alert has a series to watch from the start.
func jobKinds() []string {
	return []string{DeliveryArgs{}.Kind(), TaskArgs{}.Kind(), StepArgs{}.Kind()}
}

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- ageDesc
}

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	c.collectDepth(ctx, ch)
	c.collectAge(ctx, ch)
}

func (c queueCollector) collectDepth(ctx context.Context, ch chan<- prometheus.Metric) {
	rows, err := queryCounts(ctx, c.db, `SELECT kind, state, COUNT(*) FROM river_job GROUP BY kind, state LIMIT 1000`)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(depthDesc, err)
		return
	}
	seen := map[[2]string]bool{}
	for _, r := range rows {
		seen[r.labels] = true
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, r.value, r.labels[0], r.labels[1])
	}
	// Zeros too, so an alert on discarded jobs has a series to compare.
	for _, kind := range jobKinds() {
		for _, s := range []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateRetryable,
			rivertype.JobStateRunning, rivertype.JobStateDiscarded} {
			if !seen[[2]string{kind, string(s)}] {
				ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, 0, kind, string(s))
			}
		}
	}
}

// collectAge measures waiting from a job's scheduled_at, the time it became
// due (its insert, or the end of its retry backoff or snooze), with the
// database's clock, the one River compares scheduled_at with. Scheduled
// and retryable jobs count once past due: River moves them to available
// only while some replica works jobs, and a queue nobody works is what this
// figure is for. The oldest is MIN(scheduled_at); a kind whose jobs are all
// in the future measures negative and reports 0.
func (c queueCollector) collectAge(ctx context.Context, ch chan<- prometheus.Metric) {
	age := `CAST(EXTRACT(EPOCH FROM (now() - MIN(scheduled_at))) AS double precision)`
	if c.db.Dialect() == store.SQLite {
		// River keeps SQLite times as UTC text that julianday reads.
		age = `(julianday('now') - julianday(MIN(scheduled_at))) * 86400.0`
	}
	rows, err := queryCounts(ctx, c.db, `SELECT kind, '', `+age+` FROM river_job
		WHERE state IN ('available', 'scheduled', 'retryable') GROUP BY kind LIMIT 1000`)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(ageDesc, err)
		return
	}
	ages := map[string]float64{}
	for _, kind := range jobKinds() {
		ages[kind] = 0
	}
	for _, r := range rows {
		ages[r.labels[0]] = max(0, r.value)
	}
	for kind, a := range ages {
		ch <- prometheus.MustNewConstMetric(ageDesc, prometheus.GaugeValue, a, kind)
	}
}

// labelled is one row of a scrape query: two label values and a number.
type labelled struct {
	labels [2]string
	value  float64
}

// queryCounts runs a query returning (label, label, number) rows. All rows
// are read before any metric is sent, so a failure midway sends none.
func queryCounts(ctx context.Context, db *store.DB, query string) ([]labelled, error) {
	rows, err := db.SQL().QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("job metrics: %w", err)
	}
	defer rows.Close()
	var out []labelled
	for rows.Next() {
		var r labelled
		if err := rows.Scan(&r.labels[0], &r.labels[1], &r.value); err != nil {
			return nil, fmt.Errorf("job metrics: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("job metrics: %w", err)
	}
	return out, nil
}
