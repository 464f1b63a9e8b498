package main

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/mdtest"
	"github.com/ferry-ci/ferry/internal/store"
)

// command posts a comment as login and waits until ferry has answered it
// (👀 then 🚀 or 😕); it returns ferry's reply ("" when none) and whether
// the command went through.
func command(t *testing.T, sim *githubsim.Sim, repo string, number int, login, body string) (reply string, ok bool) {
	t.Helper()
	id, _, status := sim.Comment(repo, number, login, body)
	if status != 202 {
		t.Fatalf("%q answered %d", body, status)
	}
	var got []string
	waitFor(t, "ferry's answer to "+strconv.Quote(body), func() bool {
		got = reactions(sim, repo, number, id)
		return len(got) == 2
	})
	for _, c := range sim.Comments(repo, number) {
		if strings.HasPrefix(c.Body, github.Marker("reply-"+strconv.FormatInt(id, 10))) {
			reply = c.Body
		}
	}
	return reply, slices.Equal(got, []string{"eyes", "rocket"})
}

// noMarkup fails the test when a comment of ferry's would render a link,
// an image, HTML or a mention — but for a reply's first line, which
// mentions the one person it answers.
func noMarkup(t *testing.T, sim *githubsim.Sim, repo string, number int) {
	t.Helper()
	for _, c := range sim.Comments(repo, number) {
		if c.User != sim.BotLogin() {
			continue
		}
		body := c.Body
		if lines := strings.SplitN(body, "\n", 3); strings.HasPrefix(body, "<!-- ferry:reply-") && len(lines) == 3 {
			body = lines[2]
		}
		for _, p := range mdtest.Problems(body) {
			t.Errorf("ferry's comment %d %s:\n%s", c.ID, p, c.Body)
		}
	}
}

// decisionsWith lists the repository's decisions whose id starts with prefix.
func decisionsWith(t *testing.T, db *store.DB, prefix string) []audit.Decision {
	t.Helper()
	all, err := db.Decisions(context.Background(), audit.Filter{Repository: "acme/api"})
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Decision
	for _, d := range all {
		if strings.HasPrefix(d.ID, prefix) {
			out = append(out, d)
		}
	}
	return out
}
