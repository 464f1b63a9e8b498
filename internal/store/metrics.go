package store

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferry-ci/ferry/internal/deploy"
)

// Deploy states as the metrics name them: a deploy is in exactly one.
// "held" is a deploy that waits for anything but another deploy (a pause,
// a freeze window, a human's verdict on its analysis, a forced rollback);
// one waiting its turn is "queued".
const (
	StateQueued     = "queued"
	StateRunning    = "running"
	StateHeld       = "held"
	StateSucceeded  = "succeeded"
	StateFailed     = "failed"
	StateRolledBack = "rolled_back"
	StateSuperseded = "superseded"
)

// Rollback causes as the metrics name them.
const (
	RollbackAutomatic = "automatic" // the metrics condemned the deploy
	RollbackRequested = "requested" // a person asked: /ferry rollback, or a rollback deploy
)

// DeployCensus counts the deploys the store holds.
type DeployCensus struct {
	States    map[string]int           // by the State* names; each deploy once
	Held      map[deploy.HoldCause]int // deploys not ended that wait, by why (the queue included)
	Rollbacks map[string]int           // by the Rollback* causes
}

// DeployCensus counts deploys by state, hold cause and rollback cause. It
// reads one GROUP BY over typed columns, a few dozen rows at most however
// many deploys there are.
func (db *DB) DeployCensus(ctx context.Context) (DeployCensus, error) {
	c := DeployCensus{States: map[string]int{}, Held: map[deploy.HoldCause]int{}, Rollbacks: map[string]int{}}
	for _, s := range []string{StateQueued, StateRunning, StateHeld, StateSucceeded, StateFailed, StateRolledBack, StateSuperseded} {
		c.States[s] = 0
	}
	for _, h := range []deploy.HoldCause{deploy.HoldQueue, deploy.HoldPaused, deploy.HoldFrozen, deploy.HoldAnalysis, deploy.HoldMigrations} {
		c.Held[h] = 0
	}
	c.Rollbacks[RollbackAutomatic], c.Rollbacks[RollbackRequested] = 0, 0
	rows, err := db.sql.QueryContext(ctx, `SELECT status, kind, hold_cause, end_cause, COUNT(*) FROM deploys
		GROUP BY status, kind, hold_cause, end_cause LIMIT 1000`)
	if err != nil {
		return c, fmt.Errorf("deploy census: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			d deploy.Deploy
			n int
		)
		if err := rows.Scan(&d.Status, &d.Kind, &d.HoldCause, &d.EndCause, &n); err != nil {
			return c, fmt.Errorf("deploy census: %w", err)
		}
		c.count(d, n)
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("deploy census: %w", err)
	}
	return c, nil
}

// count adds n deploys like d.
func (c DeployCensus) count(d deploy.Deploy, n int) {
	c.States[metricState(d)] += n
	if !d.Terminal() && d.HoldCause != deploy.HoldNone {
		c.Held[d.HoldCause] += n
	}
	switch {
	case d.EndCause == deploy.EndRolledBackAuto:
		c.Rollbacks[RollbackAutomatic] += n
	case d.EndCause == deploy.EndRolledBackRequest, d.Kind == deploy.KindRollback:
		c.Rollbacks[RollbackRequested] += n
	}
}

// metricState is the one state a deploy counts in.
func metricState(d deploy.Deploy) string {
	switch d.Status {
	case deploy.Queued, deploy.Running:
		switch d.HoldCause {
		case deploy.HoldPaused, deploy.HoldFrozen, deploy.HoldAnalysis, deploy.HoldMigrations:
			return StateHeld
		case deploy.HoldNone, deploy.HoldQueue:
		}
		return string(d.Status)
	case deploy.Failed:
		if d.EndCause.RolledBack() {
			return StateRolledBack
		}
		return StateFailed
	case deploy.Succeeded, deploy.Superseded:
		return string(d.Status)
	}
	return string(d.Status) // a status a newer version wrote: shown as it is
}

// scrapeTimeout bounds the database work of one scrape: a slow database
// fails the scrape (which an alert sees) instead of piling scrapes up.
const scrapeTimeout = 2 * time.Second

var (
	deploysDesc = prometheus.NewDesc("ferry_deploys",
		"Deploys in the store by state (queued, running, held, succeeded, failed, rolled_back, superseded), at scrape time.",
		[]string{"state"}, nil)
	heldDesc = prometheus.NewDesc("ferry_deploys_held",
		"Deploys not ended that wait, by cause (queue, paused, frozen, analysis, migrations), at scrape time; analysis and migrations wait for a human.",
		[]string{"cause"}, nil)
	rollbacksDesc = prometheus.NewDesc("ferry_rollbacks_total",
		"Rollbacks recorded in the store, by cause (automatic, requested).",
		[]string{"cause"}, nil)
)

// deployCollector reports the deploy census when scraped. Every replica
// on one PostgreSQL reports the same figures: aggregate them with max.
type deployCollector struct{ db *DB }

// NewDeployCollector returns the collector of ferry_deploys,
// ferry_deploys_held and ferry_rollbacks_total.
func NewDeployCollector(db *DB) prometheus.Collector { return deployCollector{db: db} }

func (c deployCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- deploysDesc
	ch <- heldDesc
	ch <- rollbacksDesc
}

func (c deployCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	census, err := c.db.DeployCensus(ctx)
	if err != nil {
		for _, d := range []*prometheus.Desc{deploysDesc, heldDesc, rollbacksDesc} {
			ch <- prometheus.NewInvalidMetric(d, err)
		}
		return
	}
	for s, n := range census.States {
		ch <- prometheus.MustNewConstMetric(deploysDesc, prometheus.GaugeValue, float64(n), s)
	}
	for h, n := range census.Held {
		ch <- prometheus.MustNewConstMetric(heldDesc, prometheus.GaugeValue, float64(n), string(h))
	}
	// A count of rows that are never deleted only grows: a counter, so
	// increase() finds each new rollback.
	for cause, n := range census.Rollbacks {
		ch <- prometheus.MustNewConstMetric(rollbacksDesc, prometheus.CounterValue, float64(n), cause)
	}
}
