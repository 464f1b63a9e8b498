package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/gittest"
	"github.com/ferry-ci/ferry/internal/releasing"
)

// releaseWork is a real repository on disk with a bare copy the simulator
// serves as GitHub's git endpoint: what the release agent reads history
// from.
type releaseWork struct {
	*gittest.Repo
	t    *testing.T
	bare string
}

func newReleaseWork(t *testing.T) *releaseWork {
	return &releaseWork{Repo: gittest.New(t), t: t, bare: filepath.Join(t.TempDir(), "api.git")}
}

// push lands commits on main: in git, in the simulator's view of the
// repository (its commits and a comparison, for the risk agent), and as
// the signed push event.
func (w *releaseWork) push(sim *githubsim.Sim, before string, commits ...string) string {
	w.t.Helper()
	w.Publish(w.bare)
	after := commits[len(commits)-1]
	var pcs []githubsim.PushCommit
	parent := before
	for _, c := range commits {
		sim.AddCommit("acme/api", c, parent)
		pcs = append(pcs, githubsim.PushCommit{SHA: c, Message: w.Git("log", "-1", "--format=%B", c), Author: "ann",
			Modified: strings.Fields(w.Git("show", "--format=", "--name-only", c))})
		parent = c
	}
	sim.AddComparison("acme/api", before, after, []githubsim.File{{Filename: "api/x.go", Status: "modified", Additions: 1}}, nil)
	sim.SetFile("acme/api", before, ".github/ferry.yml", releasePolicy)
	sim.SetFile("acme/api", after, ".github/ferry.yml", releasePolicy)
	if _, status := sim.Push("acme/api", "main", before, after, pcs); status != http.StatusAccepted {
		w.t.Fatalf("push answered %d", status)
	}
	return after
}

const releasePolicy = "version: 1\nrelease:\n  enabled: true\n  version_files: [VERSION]\n"

func releasePRs(sim *githubsim.Sim) []githubsim.PullRequest {
	var out []githubsim.PullRequest
	for _, p := range sim.PullRequests("acme/api") {
		if p.Head == "ferry/release" {
			out = append(out, p)
		}
	}
	return out
}

// editBody changes a pull request's body as a person would, through the
// REST API.
func editBody(t *testing.T, sim *githubsim.Sim, number int, body string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"body": body})
	req, _ := http.NewRequest(http.MethodPatch, fmt.Sprintf("%srepos/acme/api/pulls/%d", sim.URL(), number), bytes.NewReader(b))
	req.Header.Set("Authorization", "token "+sim.InstallationToken(31))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("edit body: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestE2E_ReleasePullRequest: with releases enabled, pushes to main keep
// one release pull request (its body the notes, its branch carrying
// CHANGELOG.md and VERSION), updated in place with a person's words kept;
// merging it tags the merge commit once and publishes one Release, even
// when GitHub's answer to creating the Release is lost (the retried job
// finds it); the next change opens the next release's pull request.
func TestE2E_ReleasePullRequest(t *testing.T) {
	sim, repoID := newSim(t)
	w := newReleaseWork(t)
	root := w.Commit("chore: initial", map[string]string{"VERSION": "1.0.0\n", "CHANGELOG.md": "# Changelog\n\n## [1.0.0] - 2026-10-01\n\n- First.\n"})
	w.Git("tag", "v1.0.0")
	w.Publish(w.bare)
	sim.ServeGit("acme/api", w.bare)
	sim.AddCommit("acme/api", root)
	sim.SetBranch("acme/api", "main", root)
	sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "feat(api): list orders", User: "alice", State: "closed", Head: "orders", Base: "main"})
	sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "fix: empty carts", User: "bob", State: "closed", Head: "carts", Base: "main"})
	dsn := dbtest.SQLiteURL(t)
	startWithSim(t, sim, "--database="+dsn, "--git-cache-dir="+t.TempDir())
	db := dbtest.Open(t, dsn)

	c1 := w.Commit("feat(api): list orders (#1)", map[string]string{"api/orders.go": "package api\n"})
	c2 := w.Commit("fix: empty carts (#2)", map[string]string{"api/cart.go": "package api\n"})
	sim.MergedAs("acme/api", 1, c1, "carol") // squash-merged as these commits
	sim.MergedAs("acme/api", 2, c2, "carol")
	w.push(sim, root, c1, c2)
	waitFor(t, "the release pull request", func() bool { return len(releasePRs(sim)) == 1 })
	pr := releasePRs(sim)[0]
	for _, want := range []string{"v1.1.0", "list orders", "empty carts", "(#1)", "@&#8203;alice", "Merging this pull request tags"} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("release body lacks %q:\n%s", want, pr.Body)
		}
	}
	files := sim.TreeFiles("acme/api", pr.HeadSHA)
	if files["VERSION"] != "1.1.0\n" || !strings.Contains(files["CHANGELOG.md"], "## [1.1.0]") ||
		strings.Index(files["CHANGELOG.md"], "[1.1.0]") > strings.Index(files["CHANGELOG.md"], "[1.0.0]") {
		t.Fatalf("release branch files:\n%v", files)
	}

	editBody(t, sim, pr.Number, pr.Body+"\nQA sign-off: staging looked good.\n")
	c3 := w.Commit("feat(ui): dark mode", map[string]string{"web/theme.css": "body{}\n"})
	w.push(sim, c2, c3)
	waitFor(t, "the release pull request updated", func() bool {
		prs := releasePRs(sim)
		return len(prs) == 1 && strings.Contains(prs[0].Body, "dark mode")
	})
	pr = releasePRs(sim)[0]
	if !strings.Contains(pr.Body, "QA sign-off") || strings.Count(pr.Body, "list orders") != 1 {
		t.Fatalf("updated body:\n%s", pr.Body)
	}
	if !strings.Contains(sim.TreeFiles("acme/api", pr.HeadSHA)["CHANGELOG.md"], "dark mode") {
		t.Fatal("the changelog on the release branch was not updated")
	}

	// Merge it; GitHub creates the Release but its answer is lost.
	refsBefore := sim.Count("git/create-ref", 0)
	sim.Inject(githubsim.Fault{Method: http.MethodPost, Path: "^/repos/acme/api/releases$", Status: http.StatusBadGateway, Applied: true})
	merge := sim.MergePullRequest("acme/api", pr.Number, "carol")
	sim.PullRequestClosed("acme/api", pr.Number)
	waitFor(t, "the release published", func() bool {
		rec, err := db.ReleasePR(context.Background(), repoID, "", pr.Number)
		return err == nil && rec.State == releasing.Released
	})
	rels := sim.Releases("acme/api")
	if len(rels) != 1 || rels[0].TagName != "v1.1.0" || !strings.Contains(rels[0].Body, "dark mode") || rels[0].Prerelease {
		t.Fatalf("releases %+v", rels)
	}
	if got := sim.Ref("acme/api", "tags/v1.1.0"); got != merge {
		t.Fatalf("tag v1.1.0 at %q, want the merge %s", got, merge)
	}
	if n := sim.Count("git/create-ref", 0) - refsBefore; n != 1 {
		t.Fatalf("%d tag creations, want 1", n)
	}
	if n := sim.Count("repos/create-release", 0); n != 1 {
		t.Fatalf("%d release creations, want 1", n)
	}

	// GitHub's git serves the tag its API made; the next change is the
	// next release.
	w.Git("tag", "v1.1.0", c3)
	c4 := w.Commit("fix: typo in orders (#9)", map[string]string{"api/orders.go": "package api // orders\n"})
	w.push(sim, c3, c4)
	waitFor(t, "the next release pull request", func() bool {
		prs := releasePRs(sim)
		return len(prs) == 2 && prs[1].State == "open"
	})
	next := releasePRs(sim)[1]
	if !strings.Contains(next.Body, "v1.1.1") || strings.Contains(next.Body, "dark mode") || sim.TreeFiles("acme/api", next.HeadSHA)["VERSION"] != "1.1.1\n" {
		t.Fatalf("next release:\n%s", next.Body)
	}
}
