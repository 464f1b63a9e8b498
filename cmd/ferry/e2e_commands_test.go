package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/githubsim"
)

func reactions(sim *githubsim.Sim, repo string, number int, id int64) []string {
	for _, c := range sim.Comments(repo, number) {
		if c.ID == id {
			return c.Reactions
		}
	}
	return nil
}

// TestE2E_CommandsAndPause: real issue_comment and check_run payloads,
// signed, through ferry's edge and queue. A button press re-assesses; a
// read-only user's /ferry pause is refused and recorded; a maintainer's
// pauses ferry, after which a push to the pull request changes only the
// comment (saying it is paused) — no check run, no label change. `ferry
// audit` lists the decisions.
func TestE2E_CommandsAndPause(t *testing.T) {
	sim, _ := newSim(t)
	sim.SetPermission("acme/api", "rey", "read")
	sim.SetPermission("acme/api", "max", "maintain")
	dsn := dbtest.SQLiteURL(t)
	startWithSim(t, sim, "--database="+dsn)
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "Drop sessions", Files: riskyFiles})
	sim.OpenPullRequest("acme/api", n)
	head1 := sim.PullRequests("acme/api")[0].HeadSHA
	waitFor(t, "the first assessment", func() bool { return len(sim.Labels("acme/api", n)) == 1 })

	runs := checkRunsOn(sim, "acme/api", head1)
	if _, status := sim.PressButton("acme/api", runs[0].ID, "risk", "max"); status != 202 {
		t.Fatalf("button answered %d", status)
	}
	waitFor(t, "the re-assessment from the button", func() bool { return len(checkRunsOn(sim, "acme/api", head1)) == 2 })

	refused, _, _ := sim.Comment("acme/api", n, "rey", "/ferry pause")
	waitFor(t, "the refusal", func() bool {
		return slices.Equal(reactions(sim, "acme/api", n, refused), []string{"eyes", "confused"})
	})
	paused, _, _ := sim.Comment("acme/api", n, "max", "Holding deploys.\n/ferry pause incident 42")
	waitFor(t, "the pause", func() bool {
		return slices.Equal(reactions(sim, "acme/api", n, paused), []string{"eyes", "rocket"})
	})

	head2 := strings.Repeat("9", 40)
	docs := []githubsim.File{{Filename: "docs/guide.md", Status: "modified", Additions: 1, Patch: "@@ -1 +1,2 @@\n x\n+y"}}
	sim.PushToPullRequest("acme/api", n, head2, docs, nil)
	waitFor(t, "the paused comment for the new head", func() bool {
		c := riskComments(sim, "acme/api", n)
		return len(c) == 1 && strings.Contains(c[0].Body, "Paused by @&#8203;max**: incident 42") && strings.Contains(c[0].Body, head2[:8])
	})
	if runs := checkRunsOn(sim, "acme/api", head2); len(runs) != 0 {
		t.Fatalf("a check run while paused: %+v", runs)
	}
	if got := sim.Labels("acme/api", n); !slices.Equal(got, []string{"risk: high"}) {
		t.Fatalf("labels changed while paused: %v", got)
	}

	var out bytes.Buffer
	if err := run(context.Background(), []string{"audit", "--database=" + dsn, "--repo=acme/api"}, &out, &out); err != nil {
		t.Fatalf("ferry audit: %v\n%s", err, out.String())
	}
	for _, want := range []string{"refused: /ferry pause needs maintain permission; you have read", "paused: incident 42", "assessment"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("ferry audit lacks %q:\n%s", want, out.String())
		}
	}
}

// TestAuditRollbackPrecision: `ferry audit` says, per repository, how many
// of ferry's automatic rollbacks were judged right.
func TestAuditRollbackPrecision(t *testing.T) {
	dsn := dbtest.SQLiteURL(t)
	db := dbtest.Open(t, dsn)
	ctx := context.Background()
	now := time.Now()
	for i, outcome := range []string{"right", "probable-false-positive", "right", ""} {
		d := audit.Decision{ID: fmt.Sprintf("rollback-%d", i), At: now, RepositoryID: 1, Repository: "acme/api", Subject: "env:production",
			Kind: "rollback", Actor: audit.Ferry, Output: "rolled back"}
		if err := db.RecordDecision(ctx, d, 0); err != nil {
			t.Fatal(err)
		}
		if outcome != "" {
			if err := db.RecordOutcome(ctx, d.ID, outcome, "max", now); err != nil {
				t.Fatal(err)
			}
		}
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"audit", "--database=" + dsn}, &out, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	want := "rollbacks in acme/api: 2 right, 1 wrong or probable false positives, 1 not judged yet; precision 0.67"
	if !strings.Contains(out.String(), want) {
		t.Fatalf("ferry audit:\n%s", out.String())
	}
}
