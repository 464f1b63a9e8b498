package main

import (
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/mdtest"
)

// TestAttack_MarkdownInjection: a pull request whose file names and added
// lines are built to break out of ferry's Markdown (a backtick in a path,
// an image, an HTML closer, a fence closer), commands whose arguments carry
// the same, a branch name too: every comment ferry posts renders them as
// inert text — no link, image or HTML — and never echoes a command line.
func TestAttack_MarkdownInjection(t *testing.T) {
	sim, _ := newSim(t)
	sim.SetPermission("acme/api", "max", "maintain")
	startWithSim(t, sim, "--database="+dbtest.SQLiteURL(t))
	var files []githubsim.File
	for _, h := range mdtest.Hostile {
		files = append(files, githubsim.File{Filename: "db/migrate/" + h, Status: "added", Additions: 1,
			Patch: "@@ -0,0 +1 @@\n+DROP TABLE \"" + h + "\";"})
	}
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "Hostile", Head: "x`![y](https://evil.example/y.png)", Files: files})
	sim.OpenPullRequest("acme/api", n)
	waitFor(t, "the assessment", func() bool { return len(riskComments(sim, "acme/api", n)) == 1 })

	for _, cmd := range []string{
		"/ferry explain ![x](https://evil.example/x.png)",
		"/ferry dance </details><img src=x>",
		"/ferry deploy ``` @org/all",
		"/ferry feedback right [click](javascript:alert(1))",
		"/ferry pause </details> ![x](https://evil.example/x.png) ```",
	} {
		reply, _ := command(t, sim, "acme/api", n, "max", cmd)
		if strings.Contains(reply, cmd) || strings.Contains(reply, "https://evil") {
			t.Errorf("the reply to %q echoes it:\n%s", cmd, reply)
		}
	}
	waitFor(t, "the paused comment", func() bool {
		c := riskComments(sim, "acme/api", n)
		return len(c) == 1 && strings.Contains(c[0].Body, "Paused by")
	})
	noMarkup(t, sim, "acme/api", n)
	for _, cr := range sim.CheckRuns("acme/api") {
		if p := mdtest.Problems(cr.Summary); len(p) > 0 {
			t.Errorf("check run %d summary: %v", cr.ID, p)
		}
	}
}

// TestAttack_MentionRelay: ferry must not become a way to notify people
// who never asked: a team named in a pause reason, a login in a command's
// argument, authors of approvals — ferry's comments name them without
// mentioning anyone but the person it answers.
func TestAttack_MentionRelay(t *testing.T) {
	sim, _ := newSim(t)
	sim.SetPermission("acme/api", "max", "maintain")
	sim.SetPermission("acme/api", "wes", "write")
	startWithSim(t, sim, "--database="+dbtest.SQLiteURL(t))
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "Docs", Files: docsChange})
	sim.OpenPullRequest("acme/api", n)
	waitFor(t, "the assessment", func() bool { return len(riskComments(sim, "acme/api", n)) == 1 })

	command(t, sim, "acme/api", n, "wes", "/ferry approve")
	command(t, sim, "acme/api", n, "max", "/ferry explain @org/all")
	command(t, sim, "acme/api", n, "max", "/ferry pause cc @org/security-team and @alice")
	waitFor(t, "the paused comment", func() bool {
		c := riskComments(sim, "acme/api", n)
		return len(c) == 1 && strings.Contains(c[0].Body, "security-team")
	})
	noMarkup(t, sim, "acme/api", n)
}
