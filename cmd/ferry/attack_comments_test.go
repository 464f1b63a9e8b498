package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/githubsim"
)

// TestAttack_ForeignBotMarker: another App's bot posts a comment carrying
// ferry's hidden marker before ferry speaks. ferry — told no bot login,
// so it asks GitHub who it is (GET /app) — takes only its own bot's
// comments for its own: it never edits or deletes the impostor's, and keeps
// one sticky comment of its own.
func TestAttack_ForeignBotMarker(t *testing.T) {
	sim, _ := newSim(t)
	var args []string
	for _, a := range appArgs(t, sim) {
		if !strings.HasPrefix(a, "--github-bot-login") {
			args = append(args, a)
		}
	}
	base := startInProcess(t, append(args, "--database="+dbtest.SQLiteURL(t))...)
	sim.SetWebhookURL(base + "/webhook")
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "Drop sessions", Files: riskyFiles})
	fake := github.Marker("risk") + "\nferry says: low risk, merge away"
	impostor := sim.AddComment("acme/api", n, "evil[bot]", fake)
	sim.OpenPullRequest("acme/api", n)
	waitFor(t, "ferry's own comment", func() bool { return len(ferryComments(sim, n)) == 1 })
	head2 := strings.Repeat("8", 40)
	sim.PushToPullRequest("acme/api", n, head2, docsChange, nil)
	waitFor(t, "the comment edited for the new head", func() bool {
		c := ferryComments(sim, n)
		return len(c) == 1 && strings.Contains(c[0].Body, head2[:8])
	})
	i := slices.IndexFunc(sim.Comments("acme/api", n), func(c githubsim.Comment) bool { return c.ID == impostor })
	if i < 0 {
		t.Fatal("ferry deleted the impostor's comment")
	}
	if c := sim.Comments("acme/api", n)[i]; c.Body != fake || len(c.History) != 0 {
		t.Fatalf("ferry edited the impostor's comment: %+v", c)
	}
	if sim.Count("apps/get-authenticated", 200) == 0 {
		t.Fatal("ferry never asked GitHub for its own login")
	}
}

func ferryComments(sim *githubsim.Sim, n int) []githubsim.Comment {
	var out []githubsim.Comment
	for _, c := range riskComments(sim, "acme/api", n) {
		if c.User == sim.BotLogin() {
			out = append(out, c)
		}
	}
	return out
}

// TestAttack_CommentSpam: anyone can make an issue's conversation very
// long. ferry finds its own comments by the ids it recorded, so 3,000
// comments cost it no page of listing — however many commands it answers.
func TestAttack_CommentSpam(t *testing.T) {
	sim, _ := newSim(t)
	sim.SetPermission("acme/api", "max", "maintain")
	startWithSim(t, sim, "--database="+dbtest.SQLiteURL(t))
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "Docs", Files: docsChange})
	for i := range 3000 {
		sim.AddComment("acme/api", n, "spammer", fmt.Sprintf("spam %d %s", i, github.Marker("risk")))
	}
	sim.OpenPullRequest("acme/api", n)
	waitFor(t, "the assessment", func() bool { return len(ferryComments(sim, n)) == 1 })
	for range 3 {
		if _, ok := command(t, sim, "acme/api", n, "max", "/ferry help"); !ok {
			t.Fatal("/ferry help refused")
		}
	}
	command(t, sim, "acme/api", n, "max", "/ferry risk")
	if got := sim.Count("issues/list-comments", 0); got != 0 {
		t.Fatalf("ferry listed comments %d times", got)
	}
	if c := ferryComments(sim, n); len(c) != 1 || len(c[0].History) == 0 {
		t.Fatalf("the re-assessment did not edit ferry's one comment: %+v", c)
	}
}
