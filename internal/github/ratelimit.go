package github

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics reports GitHub's primary rate limit of each installation as its
// answers last stated it (X-RateLimit-*). The label is the installation's
// id: one series per installation of the App, never per repository or user.
type Metrics struct {
	remaining, limit, reset *prometheus.GaugeVec
}

// NewMetrics registers the rate-limit gauges on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"installation"})
	}
	m := &Metrics{
		remaining: gauge("ferry_github_rate_limit_remaining",
			"Requests left in the installation's primary (core) GitHub rate limit, as its last answer said."),
		limit: gauge("ferry_github_rate_limit_limit",
			"The installation's primary (core) GitHub rate limit per hour, as its last answer said."),
		reset: gauge("ferry_github_rate_limit_reset_timestamp_seconds",
			"When the installation's primary (core) GitHub rate limit resets (Unix time), as its last answer said; past it, remaining is stale."),
	}
	reg.MustRegister(m.remaining, m.limit, m.reset)
	return m
}

// observe records the rate-limit headers of one answer. Only the core
// resource counts: a search or GraphQL answer states its own, smaller
// limit, which would make the figure jump about.
func (m *Metrics) observe(installation string, h http.Header) {
	if r := h.Get("X-RateLimit-Resource"); r != "" && r != "core" {
		return
	}
	for _, g := range []struct {
		header string
		gauge  *prometheus.GaugeVec
	}{
		{"X-RateLimit-Remaining", m.remaining}, {"X-RateLimit-Limit", m.limit}, {"X-RateLimit-Reset", m.reset},
	} {
		if v, err := strconv.ParseInt(h.Get(g.header), 10, 64); err == nil {
			g.gauge.WithLabelValues(installation).Set(float64(v))
		}
	}
}

// rateTransport records the rate limit of every answer GitHub gives one
// installation: outermost, so an answer revalidated from ferry's cache
// (which carries the 304's fresh headers) counts too.
type rateTransport struct {
	next         http.RoundTripper
	installation string
	metrics      *Metrics
}

func (t *rateTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil {
		t.metrics.observe(t.installation, resp.Header)
	}
	return resp, err
}
