package main

import (
	"bufio"
	"context"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/dbtest"
)

// startInProcess runs ferry's run function in this process, as a user would
// start the binary, and returns its base URL; it stops when the test ends.
func startInProcess(t testing.TB, args ...string) string {
	t.Helper()
	if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--database") }) {
		// A database of its own: the default (ferry.db in the working
		// directory) would carry one test's pauses and deliveries into the next.
		args = append(args, "--database=sqlite:"+filepath.Join(t.TempDir(), "ferry.db"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen=127.0.0.1:0", "--log-level=warn"}, args...), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ferry run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("ferry did not stop")
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("ferry did not start: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	_, rest, _ := strings.Cut(line, "listening on ")
	return strings.Fields(rest)[0]
}

// TestE2E_InstallationFromSimulator: the simulator (GitHub) sends a signed
// installation event; ferry, configured with the simulator's URL and the
// App's generated key, records the installation and its repositories.
func TestE2E_InstallationFromSimulator(t *testing.T) {
	sim, _ := newSim(t)
	sim.AddRepo(31, "acme/web")
	dsn := dbtest.SQLiteURL(t)
	startWithSim(t, sim, "--database="+dsn)
	if _, status := sim.InstallationCreated(31); status != 202 {
		t.Fatalf("ferry answered %d", status)
	}
	db := dbtest.Open(t, dsn)
	waitFor(t, "the installation's repositories", func() bool {
		repos, err := db.Repositories(context.Background(), 31)
		return err == nil && len(repos) == 2
	})
	repos, _ := db.Repositories(context.Background(), 31)
	if repos[0].FullName != "acme/api" || repos[1].FullName != "acme/web" {
		t.Fatalf("repositories %+v", repos)
	}
	insts, err := db.Installations(context.Background())
	if err != nil || len(insts) != 1 || insts[0].AccountLogin != "acme" {
		t.Fatalf("installations %+v, %v", insts, err)
	}
	if _, status := sim.SendFixture("ping", "payload.json"); status != 202 {
		t.Fatalf("ping answered %d", status)
	}
}

// TestE2E_RecoversDeliveriesMissedWhileDown: GitHub could not reach ferry
// (it was down), and GitHub never retries by itself. When ferry starts with
// the App's credentials it asks GitHub to redeliver what it missed.
func TestE2E_RecoversDeliveriesMissedWhileDown(t *testing.T) {
	sim, _ := newSim(t)
	sim.SetWebhookURL("http://127.0.0.1:1/webhook") // nothing listens: ferry is down
	guid, status := sim.InstallationCreated(31)
	if status != 0 {
		t.Fatalf("delivery to a down ferry answered %d", status)
	}
	dsn := dbtest.SQLiteURL(t)
	startWithSim(t, sim, "--database="+dsn, "--recover-every=1s")
	db := dbtest.Open(t, dsn)
	waitFor(t, "the missed delivery to be recovered", func() bool {
		ok, err := db.HasDelivery(context.Background(), guid)
		return err == nil && ok
	})
	waitFor(t, "its job", func() bool {
		repos, err := db.Repositories(context.Background(), 31)
		return err == nil && len(repos) == 1
	})
}
