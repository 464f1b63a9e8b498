package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	ghadapter "github.com/ferry-ci/ferry/internal/github"
)

// DeliveryHistory is GitHub's log of the App's webhook deliveries.
type DeliveryHistory interface {
	FailedDeliveries(ctx context.Context, since time.Time) ([]ghadapter.HookDelivery, error)
	Redeliver(ctx context.Context, id int64) error
}

// DeliveryLookup tells whether ferry stored a delivery.
type DeliveryLookup interface {
	HasDelivery(ctx context.Context, id string) (bool, error)
}

// RecoveryConfig tunes Recovery.
type RecoveryConfig struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Window is how far back the first run looks (default 72h: GitHub
	// keeps three days of deliveries); later runs look back from the
	// previous run.
	Window time.Duration
	Max    int // redeliveries per run (default 200); the rest wait for the next run
}

// Recovery asks GitHub to redeliver what ferry missed: GitHub does not
// retry a failed delivery by itself, so while ferry was down or answering
// 5xx, events would otherwise be lost.
type Recovery struct {
	cfg     RecoveryConfig
	history DeliveryHistory
	stored  DeliveryLookup
	mu      sync.Mutex
	last    time.Time
}

// NewRecovery returns the recovery task.
func NewRecovery(cfg RecoveryConfig, history DeliveryHistory, stored DeliveryLookup) *Recovery {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Window == 0 {
		cfg.Window = 72 * time.Hour
	}
	if cfg.Max == 0 {
		cfg.Max = 200
	}
	return &Recovery{cfg: cfg, history: history, stored: stored}
}

// Run redelivers failed deliveries ferry never stored. It is idempotent: a
// delivery redelivered twice is recorded once.
func (r *Recovery) Run(ctx context.Context) error {
	start := r.cfg.Now()
	r.mu.Lock()
	since := start.Add(-r.cfg.Window)
	if !r.last.IsZero() {
		since = r.last.Add(-5 * time.Minute) // overlap: clocks and in-flight deliveries
	}
	r.mu.Unlock()
	failed, err := r.history.FailedDeliveries(ctx, since)
	if err != nil {
		return fmt.Errorf("recover deliveries: %w", err)
	}
	redelivered := 0
	for _, d := range failed {
		if redelivered == r.cfg.Max {
			break
		}
		have, err := r.stored.HasDelivery(ctx, d.GUID)
		if err != nil {
			return fmt.Errorf("recover deliveries: %w", err)
		}
		if have {
			continue // stored, then the answer was lost: nothing missing
		}
		if err := r.history.Redeliver(ctx, d.ID); err != nil {
			return fmt.Errorf("recover delivery %s: %w", d.GUID, err)
		}
		redelivered++
		r.cfg.Logger.InfoContext(ctx, "asked GitHub to redeliver a missed delivery", "delivery", d.GUID, "event", d.Event)
	}
	r.mu.Lock()
	if redelivered < r.cfg.Max {
		r.last = start // else look at the same window again next time
	}
	r.mu.Unlock()
	return nil
}
