package github

import (
	"context"
	"errors"
	"fmt"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// Installations lists the App's installations (App JWT).
func (a *App) Installations(ctx context.Context) ([]*gh.Installation, error) {
	var all []*gh.Installation
	opts := &gh.ListOptions{PerPage: 100}
	for {
		page, resp, err := a.client.Apps.ListInstallations(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list installations: %w", err)
		}
		all = append(all, page...)
		if resp.NextPage == 0 {
			return all, nil
		}
		opts.Page = resp.NextPage
	}
}

// HookDelivery is one of the App's webhook deliveries as GitHub logged it.
type HookDelivery struct {
	ID    int64  // GitHub's id of this attempt, for a redelivery
	GUID  string // the X-GitHub-Delivery id
	Event string
	At    time.Time // when GitHub delivered it
}

// FailedDeliveries lists webhook deliveries since a time that ferry did not
// answer with 2xx, newest first, each GUID once (its latest attempt).
func (a *App) FailedDeliveries(ctx context.Context, since time.Time) ([]HookDelivery, error) {
	var failed []HookDelivery
	seen := map[string]bool{}
	opts := &gh.ListCursorOptions{PerPage: 100}
	for {
		page, resp, err := a.client.Apps.ListHookDeliveries(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list webhook deliveries: %w", err)
		}
		for _, d := range page {
			if d.GetDeliveredAt().Before(since) {
				return failed, nil // newest first: the rest are older
			}
			if seen[d.GetGUID()] {
				continue
			}
			seen[d.GetGUID()] = true
			if code := d.GetStatusCode(); code < 200 || code > 299 {
				failed = append(failed, HookDelivery{ID: d.GetID(), GUID: d.GetGUID(), Event: d.GetEvent(), At: d.GetDeliveredAt().Time})
			}
		}
		if resp.Cursor == "" {
			return failed, nil
		}
		opts.Cursor = resp.Cursor
	}
}

// Redeliver asks GitHub to send a delivery again.
func (a *App) Redeliver(ctx context.Context, id int64) error {
	_, _, err := a.client.Apps.RedeliverHookDelivery(ctx, id)
	var accepted *gh.AcceptedError
	if err != nil && !errors.As(err, &accepted) { // 202: GitHub queued it
		return fmt.Errorf("redeliver %d: %w", id, err)
	}
	return nil
}
