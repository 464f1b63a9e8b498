package jobs

import (
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
			// Failures are the outcomes retryable, discarded and cancelled (a
			// permanent error): one counter, so a failure ratio is one rate
			// over another of the same series.
			Help: "Job runs by kind and outcome (completed, retryable, discarded, cancelled, snoozed); failures are retryable, discarded and cancelled.",
		}, []string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ferry_job_duration_seconds",
			Help:    "Time jobs spent running, by kind and outcome.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"kind", "outcome"}),
	}
	reg.MustRegister(m.outcomes, m.duration, queueCollector{db: db})
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
