package github

import (
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestRateObserve_CoreOnly: another resource's limit (search: 30 a
// minute) never overwrites the core figure; headers that are not numbers
// leave it as it was.
func TestRateObserve_CoreOnly(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	h := func(resource, remaining string) http.Header {
		return http.Header{"X-Ratelimit-Resource": {resource}, "X-Ratelimit-Remaining": {remaining}, "X-Ratelimit-Limit": {"5000"}}
	}
	for _, c := range []struct {
		header http.Header
		want   float64
	}{
		{h("core", "4000"), 4000},
		{h("search", "29"), 4000},
		{h("graphql", "10"), 4000},
		{h("", "3999"), 3999}, // GitHub Enterprise versions without the header
		{h("core", "lots"), 3999},
	} {
		m.observe("7", c.header)
		if got := testutil.ToFloat64(m.remaining.WithLabelValues("7")); got != c.want {
			t.Errorf("after %v: remaining %v, want %v", c.header, got, c.want)
		}
	}
}
