// Package prom reads metrics from Prometheus (client_golang's API client)
// for deploy analysis. Prometheus down or answering errors is an error the
// caller turns into a hold, never an empty, healthy-looking result.
package prom

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Client queries one Prometheus.
type Client struct{ api v1.API }

// New connects to a Prometheus at address (http://host:9090).
func New(address string) (*Client, error) {
	c, err := api.NewClient(api.Config{Address: address})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: %w", address, err)
	}
	return &Client{api: v1.NewAPI(c)}, nil
}

// Range returns a query's values from start to end every step, for a
// query that yields one series (sum or aggregate first); no series is
// no samples, not zeros. NaN and ±Inf points (a rate over no traffic) are
// dropped: they are missing data.
func (c *Client) Range(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]float64, error) {
	val, _, _, err := c.api.QueryRange(ctx, query, v1.Range{Start: start, End: end, Step: step})
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", query, err)
	}
	m, ok := val.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("query %q: a %s, want a range of one series", query, val.Type())
	}
	switch len(m) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, fmt.Errorf("query %q: %d series; aggregate it to one", query, len(m))
	}
	out := make([]float64, 0, len(m[0].Values))
	for _, p := range m[0].Values {
		if f := float64(p.Value); !math.IsNaN(f) && !math.IsInf(f, 0) {
			out = append(out, f)
		}
	}
	return out, nil
}

// Buckets returns a histogram's cumulative bucket values at one time, by
// their `le` label, for a query like `sum by (le) (rate(h_bucket{…}[w]))`.
// No series is an empty map.
func (c *Client) Buckets(ctx context.Context, query string, at time.Time) (map[string]float64, error) {
	val, _, _, err := c.api.Query(ctx, query, at)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", query, err)
	}
	vec, ok := val.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("query %q: a %s, want an instant vector by le", query, val.Type())
	}
	out := make(map[string]float64, len(vec))
	for _, s := range vec {
		le, ok := s.Metric["le"]
		if !ok {
			return nil, fmt.Errorf("query %q: a series without le; aggregate by (le)", query)
		}
		if f := float64(s.Value); !math.IsNaN(f) && !math.IsInf(f, 0) {
			out[string(le)] = f
		}
	}
	return out, nil
}
