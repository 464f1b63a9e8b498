package app_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/app"
	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/fixture"
	"github.com/ferry-ci/ferry/internal/install"
	"github.com/ferry-ci/ferry/internal/store"
)

func deliver(t *testing.T, a *app.App, ev, name string) {
	t.Helper()
	payload := fixture.Payload(ev, name)
	var s struct{ Action string }
	if err := json.Unmarshal(payload, &s); err != nil {
		t.Fatal(err)
	}
	if !a.Handles(ev, s.Action) {
		t.Fatalf("%s.%s is not routed", ev, s.Action)
	}
	// Twice: a delivery may be handled again after a crash; the result
	// must be the same.
	for range 2 {
		if err := a.HandleDelivery(context.Background(), event.Delivery{Event: ev, Action: s.Action, Payload: payload}); err != nil {
			t.Fatalf("%s/%s: %v", ev, name, err)
		}
	}
}

func repoNames(t *testing.T, db *store.DB, installation int64) []string {
	t.Helper()
	repos, err := db.Repositories(context.Background(), installation)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range repos {
		names = append(names, r.FullName)
	}
	return names
}

// TestInstallations replays real installation payloads and checks the
// tables after each, on both databases.
func TestInstallations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
		a := app.New(app.Config{Now: func() time.Time { return now }, Logger: quiet}, app.Deps{Installations: db})

		deliver(t, a, "installation", "created.payload.json")
		if diff := cmp.Diff([]string{"Codertocat/Hello-World"}, repoNames(t, db, 957387)); diff != "" {
			t.Fatalf("after created (-want +got):\n%s", diff)
		}
		deliver(t, a, "installation_repositories", "added.payload.json")
		if diff := cmp.Diff([]string{"Codertocat/Hello-World", "Codertocat/Space"}, repoNames(t, db, 957387)); diff != "" {
			t.Fatalf("after added (-want +got):\n%s", diff)
		}
		deliver(t, a, "installation", "suspend.payload.json")
		deliver(t, a, "installation", "deleted.payload.json") // installation 2, octocat
		deliver(t, a, "installation_repositories", "removed.payload.json")

		insts, err := db.Installations(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		byID := map[int64]install.Installation{}
		for _, i := range insts {
			byID[i.ID] = i
		}
		if i := byID[2]; !i.Deleted || i.AccountLogin != "octocat" {
			t.Errorf("installation 2 = %+v, want deleted octocat", i)
		}
		if got := repoNames(t, db, 2); len(got) != 0 {
			t.Errorf("deleted installation still has repositories %v", got)
		}
		if i, ok := byID[957387]; !ok || i.Deleted {
			t.Errorf("installation 957387 = %+v, want present", i)
		}
	})
}

func TestSuspendUnsuspend(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		a := app.New(app.Config{Logger: quiet}, app.Deps{Installations: db})
		suspended := func() bool {
			insts, err := db.Installations(context.Background())
			if err != nil || len(insts) != 1 {
				t.Fatalf("installations %v, %v", insts, err)
			}
			return insts[0].Suspended
		}
		deliver(t, a, "installation", "suspend.payload.json")
		if !suspended() {
			t.Fatal("not suspended")
		}
		deliver(t, a, "installation", "unsuspend.payload.json")
		if suspended() {
			t.Fatal("still suspended")
		}
	})
}

func TestRoutes(t *testing.T) {
	a := app.New(app.Config{}, app.Deps{})
	tests := []struct {
		event, action string
		want          bool
	}{
		{"ping", "", true},
		{"installation", "created", true},
		{"installation", "deleted", true},
		{"installation_repositories", "added", true},
		{"installation_repositories", "removed", true},
		{"installation", "made_up", false},
		{"pull_request", "opened", false}, // recorded as ignored until the risk issue
		{"push", "", false},
	}
	for _, tt := range tests {
		if got := a.Handles(tt.event, tt.action); got != tt.want {
			t.Errorf("Handles(%q, %q) = %v, want %v", tt.event, tt.action, got, tt.want)
		}
	}
}

func TestMalformedPayloadIsPermanent(t *testing.T) {
	a := app.New(app.Config{}, app.Deps{})
	err := a.HandleDelivery(context.Background(), event.Delivery{Event: "installation", Action: "created", Payload: []byte(`{"installation":{"id":"x"}}`)})
	if !event.IsPermanent(err) {
		t.Fatalf("err = %v, want permanent", err)
	}
	err = a.HandleDelivery(context.Background(), event.Delivery{Event: "installation", Action: "created", Payload: []byte(`{"action":"created"}`)})
	if !event.IsPermanent(err) {
		t.Fatalf("payload without installation: err = %v, want permanent", err)
	}
}

var quiet = slog.New(slog.DiscardHandler)
