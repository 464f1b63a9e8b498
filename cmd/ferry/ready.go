package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// readyTTL is how long a readiness result is reused. Probes every second
// from several kubelets, or a flood of them, cost one database check per
// readyTTL.
const readyTTL = 2 * time.Second

// readiness answers /readyz from the last check of the database and job
// tables, made again at most once per ttl. Concurrent probes arriving when
// the result is stale wait for the one check under way.
type readiness struct {
	check func(context.Context) error
	ttl   time.Duration
	now   func() time.Time
	log   *slog.Logger

	mu      sync.Mutex
	at      time.Time // of the last check; zero before the first
	lastErr error
}

func (r *readiness) ready(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.at.IsZero() && r.now().Sub(r.at) < r.ttl {
		return r.lastErr
	}
	// Not the probe's context: a probe that gives up must not leave a
	// cancelled check cached as "not ready" for everyone else.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	r.lastErr = r.check(cctx)
	r.at = r.now()
	if r.lastErr != nil {
		r.log.WarnContext(ctx, "not ready", "err", r.lastErr)
	}
	return r.lastErr
}

func (r *readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if err := r.ready(req.Context()); err != nil {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}
