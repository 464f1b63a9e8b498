package main

import (
	"context"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/mdtest"
	"github.com/ferry-ci/ferry/internal/store"
)

// handled waits until ferry finished the delivery.
func handled(t *testing.T, db *store.DB, guid string) {
	t.Helper()
	waitFor(t, "delivery "+guid, func() bool {
		d, err := db.GetDelivery(context.Background(), guid)
		return err == nil && (d.Status == event.StatusDone || d.Status == event.StatusFailed)
	})
}

// TestAttack_ForgedReleasePullRequest: a pull request from a fork whose
// branch is named ferry/release, and one on ferry/release in the
// repository that ferry never opened, are merged: ferry tags nothing and
// publishes nothing — only its own recorded release pull requests release.
func TestAttack_ForgedReleasePullRequest(t *testing.T) {
	sim, _ := newSim(t)
	w := newReleaseWork(t)
	root := w.Commit("chore: initial", map[string]string{"VERSION": "1.0.0\n"})
	w.Publish(w.bare)
	sim.ServeGit("acme/api", w.bare)
	sim.AddCommit("acme/api", root)
	sim.SetBranch("acme/api", "main", root)
	dsn := dbtest.SQLiteURL(t)
	startWithSim(t, sim, "--database="+dsn, "--git-cache-dir="+t.TempDir())
	db := dbtest.Open(t, dsn)
	for _, pr := range []githubsim.PullRequest{
		{Title: "chore(release): v9.9.9", User: "mallory", Head: "ferry/release", HeadRepo: "mallory/api", HeadSHA: root},
		{Title: "chore(release): v9.9.9", User: "mallory", Head: "ferry/release", HeadSHA: root},
	} {
		n := sim.AddPullRequest("acme/api", pr)
		sim.MergePullRequest("acme/api", n, "mallory")
		guid, _ := sim.PullRequestClosed("acme/api", n)
		handled(t, db, guid)
	}
	if rels := sim.Releases("acme/api"); len(rels) != 0 || sim.Count("git/create-ref", 0) != 0 {
		t.Fatalf("a forged release pull request released: %+v", rels)
	}
}

// TestAttack_HostileCommitMessages: commit messages and pull request
// titles built to break out of Markdown, mention teams or inject HTML land
// on main; the release pull request ferry writes renders them as inert
// text.
func TestAttack_HostileCommitMessages(t *testing.T) {
	sim, _ := newSim(t)
	w := newReleaseWork(t)
	root := w.Commit("chore: initial", map[string]string{"VERSION": "1.0.0\n"})
	w.Git("tag", "v1.0.0")
	w.Publish(w.bare)
	sim.ServeGit("acme/api", w.bare)
	sim.AddCommit("acme/api", root)
	sim.SetBranch("acme/api", "main", root)
	sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "feat: " + mdtest.Hostile[0], User: "mallory", State: "closed", Head: "x", Base: "main"})
	startWithSim(t, sim, "--database="+dbtest.SQLiteURL(t), "--git-cache-dir="+t.TempDir())
	var commits []string
	for i, h := range mdtest.Hostile {
		msg := "feat: " + h
		if i == 0 {
			msg += " (#1)"
		}
		commits = append(commits, w.Commit(msg+"\n\nBREAKING CHANGE: "+h, map[string]string{"src/f.go": h}))
	}
	w.push(sim, root, commits...)
	waitFor(t, "the release pull request", func() bool { return len(releasePRs(sim)) == 1 })
	pr := releasePRs(sim)[0]
	body := pr.Body[strings.Index(pr.Body, "\n"):] // after ferry's marker
	if p := mdtest.Problems(body); len(p) > 0 {
		t.Errorf("release body: %v\n%s", p, pr.Body)
	}
	// The changelog's own links (its preamble's, each version to its
	// compare view) are ferry's; everything else must be inert.
	changelog := sim.TreeFiles("acme/api", pr.HeadSHA)["CHANGELOG.md"]
	var lines []string
	for _, l := range strings.Split(changelog[strings.Index(changelog, "\n## "):], "\n") {
		if !strings.HasPrefix(l, "[") || !strings.Contains(l, "]: https://github.com/acme/api/") {
			lines = append(lines, l)
		}
	}
	if p := mdtest.Problems(strings.Join(lines, "\n")); len(p) > 0 {
		t.Errorf("changelog: %v\n%s", p, strings.Join(lines, "\n"))
	}
}

// TestE2E_ChangelogPreview: /ferry changelog on a pull request answers with
// the entry it will produce, with releases not enabled.
func TestE2E_ChangelogPreview(t *testing.T) {
	sim, _ := newSim(t)
	sim.SetPermission("acme/api", "max", "write")
	startWithSim(t, sim, "--database="+dbtest.SQLiteURL(t))
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "feat(api)!: page through orders", User: "alice",
		Files: []githubsim.File{{Filename: "api/orders.go", Status: "modified", Additions: 3}}})
	reply, ok := command(t, sim, "acme/api", n, "max", "/ferry changelog")
	if !ok || !strings.Contains(reply, "page through orders") || !strings.Contains(reply, "**major**") && !strings.Contains(reply, "**minor**") {
		t.Fatalf("reply:\n%s", reply)
	}
}
