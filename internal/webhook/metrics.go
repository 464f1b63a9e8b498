package webhook

import (
	"slices"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts deliveries and times acknowledgements.
type Metrics struct {
	deliveries *prometheus.CounterVec
	ack        *prometheus.HistogramVec
	verified   *prometheus.CounterVec
	known      []string
}

// NewMetrics registers the webhook metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_webhook_deliveries_total",
			Help: "Webhook deliveries by event and outcome (accepted, ignored, duplicate, rejected_<reason>, error).",
		}, []string{"event", "outcome"}),
		ack: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ferry_webhook_ack_seconds",
			Help:    "Time from receiving a webhook request to answering it, by outcome.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16), // 0.5 ms … 16 s
		}, []string{"outcome"}),
		verified: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_webhook_verified_total",
			Help: "Deliveries whose signature verified, by the secret that verified it (current, previous): during a rotation, previous falls to no increase once GitHub signs with the new secret.",
		}, []string{"secret"}),
		known: github.MessageTypes(),
	}
	reg.MustRegister(m.deliveries, m.ack, m.verified)
	// Both series from the start, so the first delivery of either counts
	// in increase().
	m.verified.WithLabelValues("current")
	m.verified.WithLabelValues("previous")
	return m
}

func (m *Metrics) observe(event, outcome string, took time.Duration) {
	// The event header is not signed: only names go-github knows become
	// label values, so a client cannot grow the series without bound.
	if event != "-" && !slices.Contains(m.known, event) {
		event = "other"
	}
	m.deliveries.WithLabelValues(event, outcome).Inc()
	m.ack.WithLabelValues(outcome).Observe(took.Seconds())
}
