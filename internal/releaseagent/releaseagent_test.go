package releaseagent_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/control"
	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/gittest"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/releaseagent"
	"github.com/ferry-ci/ferry/internal/releasing"
	"github.com/ferry-ci/ferry/internal/store"
)

const repoName = "acme/api"

// harness is the release agent on real parts: a git repository served by
// the simulator (GitHub), the GitHub adapter, SQLite.
type harness struct {
	t     *testing.T
	sim   *githubsim.Sim
	db    *store.DB
	agent *releaseagent.Agent
	gh    *github.Client
	repo  releaseagent.Repo
	work  *gittest.Repo
	bare  string
}

func newHarness(t *testing.T) *harness {
	return newHarnessOn(t, dbtest.Open(t, dbtest.SQLiteURL(t)), nil)
}

// newHarnessOn is the harness on db, asking model for highlights (nil:
// the agent's default, none).
func newHarnessOn(t *testing.T, db *store.DB, model releaseagent.Model) *harness {
	h := &harness{t: t, work: gittest.New(t), bare: filepath.Join(t.TempDir(), "api.git"), db: db}
	h.sim = githubsim.New(t, githubsim.Config{})
	h.sim.AddInstallation(1, "acme")
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	t.Cleanup(hooks.Close)
	h.sim.SetWebhookURL(hooks.URL) // events are handed to the agent by the test
	id := h.sim.AddRepo(1, repoName)
	app, err := github.New(github.Config{AppID: h.sim.AppID(), PrivateKey: h.sim.PrivateKeyPEM(), BaseURL: h.sim.URL(),
		BotLogin: h.sim.BotLogin(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h.gh = app.Installation(1)
	h.agent, err = releaseagent.New(releaseagent.Config{Logger: slog.New(slog.DiscardHandler)}, releaseagent.Deps{
		GitHub:   func(int64) releaseagent.GitHub { return app.Installation(1) },
		History:  &git.Cache{Dir: t.TempDir()},
		Releases: h.db, Signals: h.db, Control: h.db, Audit: h.db, Model: model,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.repo = releaseagent.Repo{InstallationID: 1, ID: id, Owner: "acme", Name: "api", DefaultBranch: "main",
		CloneURL: h.sim.CloneURL(repoName), HTMLURL: "https://github.com/" + repoName, Cause: "test"}
	root := h.work.Commit("chore: initial", map[string]string{"VERSION": "1.0.0\n"})
	h.work.Git("tag", "v1.0.0")
	h.work.Publish(h.bare)
	h.sim.ServeGit(repoName, h.bare)
	h.sim.AddCommit(repoName, root)
	h.sim.SetBranch(repoName, "main", root)
	return h
}

// land commits on main and makes it what GitHub has (git and API).
func (h *harness) land(msg, path string) string {
	h.t.Helper()
	before := h.work.Head()
	sha := h.work.Commit(msg, map[string]string{path: msg + "\n"})
	h.work.Publish(h.bare)
	h.sim.AddCommit(repoName, sha, before)
	h.sim.SetBranch(repoName, "main", sha)
	return sha
}

func (h *harness) update(head string, pol policy.Loaded) error {
	r := h.repo
	r.Head = head
	return h.agent.Update(context.Background(), r, pol)
}

func enabled(t *testing.T, extra string) policy.Loaded {
	t.Helper()
	l := policy.Load([]byte("version: 1\nrelease:\n  enabled: true\n"+extra), true, "main", policy.Options{})
	if l.State != policy.Valid {
		t.Fatalf("policy: %+v", l.Problems)
	}
	return l
}

func (h *harness) releasePRs() []githubsim.PullRequest {
	var out []githubsim.PullRequest
	for _, p := range h.sim.PullRequests(repoName) {
		if strings.HasPrefix(p.Head, "ferry/release") {
			out = append(out, p)
		}
	}
	return out
}

// proposed lands a feature and returns the release pull request it opens.
func (h *harness) proposed(pol policy.Loaded) githubsim.PullRequest {
	h.t.Helper()
	head := h.land("feat: orders", "api/orders.go")
	if err := h.update(head, pol); err != nil {
		h.t.Fatal(err)
	}
	prs := h.releasePRs()
	if len(prs) != 1 {
		h.t.Fatalf("release pull requests: %+v", prs)
	}
	return prs[0]
}

func (h *harness) record(number int) releasing.PR {
	h.t.Helper()
	rec, err := h.db.ReleasePR(context.Background(), h.repo.ID, "", number)
	if err != nil {
		h.t.Fatal(err)
	}
	return rec
}

func (h *harness) closed(number int) error {
	for _, p := range h.sim.PullRequests(repoName) {
		if p.Number == number {
			pr := forge.PullRequest{Number: p.Number, State: p.State, Merged: p.Merged, HeadRef: p.Head, HeadRepo: repoName,
				MergeCommitSHA: p.MergeCommitSHA}
			if p.HeadRepo != "" {
				pr.HeadRepo = p.HeadRepo
			}
			return h.agent.Closed(context.Background(), h.repo, pr)
		}
	}
	h.t.Fatalf("no pull request #%d", number)
	return nil
}

// TestReleaseTagAnswerLost: GitHub creates the tag but its answer is lost;
// the retried job accepts the tag already at the merge, and publishes one
// Release.
func TestReleaseTagAnswerLost(t *testing.T) {
	h := newHarness(t)
	pr := h.proposed(enabled(t, ""))
	merge := h.sim.MergePullRequest(repoName, pr.Number, "carol")
	h.sim.Inject(githubsim.Fault{Method: http.MethodPost, Path: "/git/refs$", Status: http.StatusBadGateway, Applied: true})
	if err := h.closed(pr.Number); err == nil {
		t.Fatal("the lost answer was not an error")
	}
	if rec := h.record(pr.Number); rec.State != releasing.Tagging || rec.TagSHA != merge {
		t.Fatalf("after the lost answer: %+v", rec)
	}
	if err := h.closed(pr.Number); err != nil {
		t.Fatal(err)
	}
	if rec := h.record(pr.Number); rec.State != releasing.Released || rec.ReleaseID == 0 {
		t.Fatalf("after the retry: %+v", rec)
	}
	if rels := h.sim.Releases(repoName); len(rels) != 1 || h.sim.Ref(repoName, "tags/v1.1.0") != merge {
		t.Fatalf("releases %+v, tag at %s", rels, h.sim.Ref(repoName, "tags/v1.1.0"))
	}
	// A third delivery of the same event does nothing more.
	if err := h.closed(pr.Number); err != nil || len(h.sim.Releases(repoName)) != 1 {
		t.Fatalf("redelivery: %v, %d releases", err, len(h.sim.Releases(repoName)))
	}
}

// TestReleaseNeverMovesATag: a tag of the release's name already names
// another commit: ferry stops, says so on the pull request, and publishes
// nothing.
func TestReleaseNeverMovesATag(t *testing.T) {
	h := newHarness(t)
	pr := h.proposed(enabled(t, ""))
	other := strings.Repeat("e", 40)
	h.sim.AddCommit(repoName, other)
	h.sim.SetBranch(repoName, "elsewhere", other)
	if err := h.gh.CreateTag(context.Background(), "acme", "api", "v1.1.0", other); err != nil {
		t.Fatal(err)
	}
	h.sim.MergePullRequest(repoName, pr.Number, "carol")
	if err := h.closed(pr.Number); err != nil {
		t.Fatal(err)
	}
	if rec := h.record(pr.Number); rec.State != releasing.Stuck {
		t.Fatalf("record %+v", rec)
	}
	if h.sim.Ref(repoName, "tags/v1.1.0") != other || len(h.sim.Releases(repoName)) != 0 {
		t.Fatal("the tag moved or a release was published")
	}
	cs := h.sim.Comments(repoName, pr.Number)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "never moves a tag") {
		t.Fatalf("comments %+v", cs)
	}
}

// TestReleaseWhilePaused: no release pull request updates while paused, and
// a merge meanwhile is only recorded; resuming (Update again) releases it.
func TestReleaseWhilePaused(t *testing.T) {
	h := newHarness(t)
	pol := enabled(t, "")
	pr := h.proposed(pol)
	ctx := context.Background()
	pause := control.Pause{Environment: control.AllEnvironments, By: "maintainer", At: time.Now()}
	if err := h.db.SetPause(ctx, h.repo.ID, pause, audit.Decision{ID: "p", At: time.Now(), Kind: audit.KindPause}, 0); err != nil {
		t.Fatal(err)
	}
	head := h.land("fix: while paused", "api/paused.go")
	if err := h.update(head, pol); err != nil {
		t.Fatal(err)
	}
	if body := h.releasePRs()[0].Body; strings.Contains(body, "while paused") {
		t.Fatal("updated while paused")
	}
	h.sim.MergePullRequest(repoName, pr.Number, "carol")
	if err := h.closed(pr.Number); err != nil {
		t.Fatal(err)
	}
	if rec := h.record(pr.Number); rec.State != releasing.Merged || len(h.sim.Releases(repoName)) != 0 {
		t.Fatalf("merged while paused: %+v", rec)
	}
	if _, err := h.db.Resume(ctx, h.repo.ID, control.AllEnvironments, audit.Decision{ID: "r", At: time.Now(), Kind: audit.KindResume}, 0); err != nil {
		t.Fatal(err)
	}
	if err := h.update("", pol); err != nil {
		t.Fatal(err)
	}
	if rec := h.record(pr.Number); rec.State != releasing.Released || len(h.sim.Releases(repoName)) != 1 {
		t.Fatalf("after resume: %+v", rec)
	}
}

// TestReleaseClosedSkipsVersion: closing the release pull request without
// merging skips its version until the next change, which proposes again.
func TestReleaseClosedSkipsVersion(t *testing.T) {
	h := newHarness(t)
	pol := enabled(t, "")
	pr := h.proposed(pol)
	h.sim.PullRequestClosed(repoName, pr.Number) // closed by a person, not merged
	if err := h.closed(pr.Number); err != nil {
		t.Fatal(err)
	}
	if rec := h.record(pr.Number); rec.State != releasing.Closed {
		t.Fatalf("record %+v", rec)
	}
	if err := h.update(h.work.Head(), pol); err != nil || len(h.releasePRs()) != 1 {
		t.Fatalf("proposed again for the same head: %v, %+v", err, h.releasePRs())
	}
	head := h.land("fix: after closing", "api/later.go")
	if err := h.update(head, pol); err != nil {
		t.Fatal(err)
	}
	prs := h.releasePRs()
	if len(prs) != 2 || prs[1].State != "open" || !strings.Contains(prs[1].Body, "after closing") {
		t.Fatalf("after the next change: %+v", prs)
	}
}

// TestReleaseOff: without `release: enabled` nothing is proposed.
func TestReleaseOff(t *testing.T) {
	h := newHarness(t)
	head := h.land("feat: orders", "api/orders.go")
	for _, pol := range []policy.Loaded{policy.Load(nil, false, "main", policy.Options{}),
		policy.Load([]byte("version: 1\nrelease: {enabled: false}\n"), true, "main", policy.Options{})} {
		if err := h.update(head, pol); err != nil || len(h.releasePRs()) != 0 {
			t.Fatalf("release off: %v, %+v", err, h.releasePRs())
		}
	}
}

// TestReleaseMonorepo: two components, two release pull requests, each
// with only its own changes and its own tag pattern.
func TestReleaseMonorepo(t *testing.T) {
	h := newHarness(t)
	h.land("feat(api): orders", "services/api/orders.go")
	head := h.land("fix(web): buttons", "web/button.ts")
	pol := enabled(t, "  components:\n    - {name: api, paths: [\"services/api/**\"]}\n    - {name: web, paths: [\"web/**\"]}\n")
	if err := h.update(head, pol); err != nil {
		t.Fatal(err)
	}
	prs := h.releasePRs()
	if len(prs) != 2 {
		t.Fatalf("release pull requests %+v", prs)
	}
	byBranch := map[string]githubsim.PullRequest{prs[0].Head: prs[0], prs[1].Head: prs[1]}
	api, web := byBranch["ferry/release/api"], byBranch["ferry/release/web"]
	if !strings.Contains(api.Body, "api-v0.1.0") || strings.Contains(api.Body, "buttons") ||
		!strings.Contains(web.Body, "web-v0.1.0") || strings.Contains(web.Body, "orders") {
		t.Fatalf("api:\n%s\nweb:\n%s", api.Body, web.Body)
	}
	if f := h.sim.TreeFiles(repoName, api.HeadSHA); !strings.Contains(f["services/api/CHANGELOG.md"], "orders") {
		t.Fatalf("api's changelog: %v", f)
	}
}

// TestReleaseRebaseMergeAndEnvironments: a pull request rebase-merged (its
// commits say nothing of it) is one entry with its number, title and
// author through GitHub's "pull requests associated with a commit"; the
// entry says which environments run it.
func TestReleaseRebaseMergeAndEnvironments(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := h.land("add the orders table", "db/orders.sql")
	b := h.land("list orders", "api/orders.go")
	n := h.sim.AddPullRequest(repoName, githubsim.PullRequest{Title: "feat: orders", User: "dana", Head: "orders", Base: "main"})
	h.sim.MergePullRequest(repoName, n, "carol")
	h.sim.SetPullRequestCommits(repoName, n, a, b)
	c := h.land("fix: later", "api/later.go")
	d := deploy.Deploy{ID: "d1", RepositoryID: h.repo.ID, Repository: repoName, InstallationID: 1, Environment: "staging",
		Kind: deploy.KindDeploy, SHA: b, Actor: "ferry", Strategy: policy.Rolling, CreatedAt: time.Now()}
	if _, err := h.db.CreateDeploy(ctx, d, func(*sql.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := h.db.FinishDeploy(ctx, "d1", deploy.Succeeded, deploy.EndCompleted, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	pol := enabled(t, "")
	pol.Policy.Environments = map[string]policy.Environment{"staging": {}}
	if err := h.update(c, pol); err != nil {
		t.Fatal(err)
	}
	body := h.releasePRs()[0].Body
	if strings.Count(body, fmt.Sprintf("(#%d)", n)) != 1 || !strings.Contains(body, "dana") ||
		!strings.Contains(body, "orders") || !strings.Contains(body, "reached `staging`") {
		t.Fatalf("body:\n%s", body)
	}
	if line := body[strings.Index(body, "later"):]; strings.Contains(line[:strings.Index(line, "\n")], "staging") {
		t.Fatalf("a commit after the deployed one reached staging:\n%s", body)
	}
}

// TestAttack_ReleaseBorrowedPullRequest: a commit pushed straight to main
// whose message names a pull request merged as another commit — one
// labelled skip-changelog, by someone else — borrows nothing: it stays in
// the notes, credited to its own author.
func TestAttack_ReleaseBorrowedPullRequest(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	decoy := h.sim.AddPullRequest(repoName, githubsim.PullRequest{Title: "docs: typo", User: "carol", Head: "typo", Base: "main"})
	typo := h.land(fmt.Sprintf("docs: typo (#%d)", decoy), "docs/typo.md")
	h.sim.MergedAs(repoName, decoy, typo, "carol")
	if err := h.gh.AddLabels(ctx, "acme", "api", decoy, "skip-changelog"); err != nil {
		t.Fatal(err)
	}
	head := h.land(fmt.Sprintf("feat: quietly add a backdoor (#%d)", decoy), "api/backdoor.go")
	if err := h.update(head, enabled(t, "")); err != nil {
		t.Fatal(err)
	}
	prs := h.releasePRs()
	if len(prs) != 1 || !strings.Contains(prs[0].Body, "quietly add a backdoor") || strings.Contains(prs[0].Body, "carol") {
		t.Fatalf("release pull requests %d; body:\n%v", len(prs), prs)
	}
}
