package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/app"
	"github.com/ferry-ci/ferry/internal/github"
)

// fakeHistory is GitHub's delivery log, as state.
type fakeHistory struct {
	deliveries  []github.HookDelivery
	since       []time.Time
	redelivered []int64
}

func (f *fakeHistory) FailedDeliveries(_ context.Context, since time.Time) ([]github.HookDelivery, error) {
	f.since = append(f.since, since)
	var out []github.HookDelivery
	for _, d := range f.deliveries {
		if !d.At.Before(since) {
			out = append(out, d)
		}
	}
	return out, nil
}

func (f *fakeHistory) Redeliver(_ context.Context, id int64) error {
	f.redelivered = append(f.redelivered, id)
	return nil
}

type storedSet map[string]bool

func (s storedSet) HasDelivery(_ context.Context, id string) (bool, error) { return s[id], nil }

func TestRecovery(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) time.Time { return now.Add(-ago) }
	h := &fakeHistory{deliveries: []github.HookDelivery{
		{ID: 1, GUID: "a", At: at(time.Hour)},
		{ID: 2, GUID: "stored-then-answer-lost", At: at(2 * time.Hour)},
		{ID: 3, GUID: "c", At: at(80 * time.Hour)}, // beyond GitHub's 3 days
		{ID: 4, GUID: "d", At: at(3 * time.Hour)},
	}}
	clock := now
	r := app.NewRecovery(app.RecoveryConfig{Now: func() time.Time { return clock }, Max: 1, Logger: quiet}, h,
		storedSet{"stored-then-answer-lost": true})
	ctx := context.Background()

	// Max 1 per run: the first run redelivers one and keeps its window.
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(time.Minute)
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if want := []int64{1, 1}; len(h.redelivered) != 2 || h.redelivered[0] != 1 {
		t.Fatalf("redelivered %v, want %v (the fake does not forget failures)", h.redelivered, want)
	}
	if !h.since[0].Equal(now.Add(-72*time.Hour)) || !h.since[1].Equal(clock.Add(-72*time.Hour)) {
		t.Fatalf("windows %v: the first run looks back 72h and a run cut short looks again", h.since)
	}
	// A complete run moves the window to the previous run (less 5 minutes).
	r2 := app.NewRecovery(app.RecoveryConfig{Now: func() time.Time { return clock }, Logger: quiet}, h, storedSet{"stored-then-answer-lost": true})
	h.redelivered = nil
	if err := r2.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if len(h.redelivered) != 2 { // a and d; never the stored one, never the one beyond the window
		t.Fatalf("redelivered %v, want [1 4]", h.redelivered)
	}
	clock = clock.Add(10 * time.Minute)
	_ = r2.Run(ctx)
	if got := h.since[len(h.since)-1]; !got.Equal(now.Add(time.Minute - 5*time.Minute)) {
		t.Fatalf("second window starts %v", got)
	}
}
