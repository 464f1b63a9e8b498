package jobs

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ferry-ci/ferry/internal/store"
)

type metrics struct {
	outcomes *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, db *store.DB) *metrics {
	m := &metrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_jobs_total",
			Help: "Job runs by kind and outcome (completed, retryable, discarded, cancelled, snoozed).",
		}, []string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ferry_job_duration_seconds",
			Help:    "Time jobs spent running, by kind and outcome.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"kind", "outcome"}),
	}
	reg.MustRegister(m.outcomes, m.duration, depthCollector{db: db})
	return m
}

func (m *metrics) consume(events <-chan *river.Event, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			m.observe(ev)
		}
	}
}

func (m *metrics) observe(ev *river.Event) {
	if ev.Job == nil {
		return
	}
	var outcome string
	switch ev.Kind {
	case river.EventKindJobCompleted:
		outcome = "completed"
	case river.EventKindJobCancelled:
		outcome = "cancelled"
	case river.EventKindJobSnoozed:
		outcome = "snoozed"
	case river.EventKindJobFailed:
		outcome = "retryable"
		if ev.Job.State == rivertype.JobStateDiscarded {
			outcome = "discarded"
		}
	default:
		return
	}
	m.outcomes.WithLabelValues(ev.Job.Kind, outcome).Inc()
	if ev.JobStats != nil {
		m.duration.WithLabelValues(ev.Job.Kind, outcome).Observe(ev.JobStats.RunDuration.Seconds())
	}
}

// depthCollector reports how many jobs are in each state when scraped.
type depthCollector struct{ db *store.DB }

var depthDesc = prometheus.NewDesc("ferry_job_queue_depth",
	"Jobs by state (available, scheduled, retryable, running, discarded, …) at scrape time.", []string{"state"}, nil)

func (c depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- depthDesc }

func (c depthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := c.db.SQL().QueryContext(ctx, `SELECT state, COUNT(*) FROM river_job GROUP BY state`)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(depthDesc, err)
		return
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var (
			state string
			n     float64
		)
		if err := rows.Scan(&state, &n); err != nil {
			ch <- prometheus.NewInvalidMetric(depthDesc, err)
			return
		}
		seen[state] = true
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, n, state)
	}
	// Report zeros too, so an alert on discarded > 0 has a series to watch.
	for _, s := range []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateRetryable,
		rivertype.JobStateRunning, rivertype.JobStateDiscarded} {
		if !seen[string(s)] {
			ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, 0, string(s))
		}
	}
}
