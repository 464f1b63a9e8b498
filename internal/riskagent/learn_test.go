package riskagent_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/assessment"
	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/gittest"
	"github.com/ferry-ci/ferry/internal/md"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/riskagent"
	"github.com/ferry-ci/ferry/internal/store"
)

// troubledHistory is a year of daily commits where changes to the
// billing code are often reverted within days and the rest rarely: what
// a model learned from the repository should notice.
func troubledHistory(t *testing.T, days int) *gittest.Repo {
	t.Helper()
	r := gittest.New(t)
	start := now.AddDate(0, 0, -days-1)
	var reverts []string
	for d := range days {
		r.When = start.AddDate(0, 0, d).Add(10 * time.Hour)
		switch {
		case len(reverts) > 0 && d%9 == 2:
			target := reverts[0]
			reverts = reverts[1:]
			r.Commit(fmt.Sprintf("Revert \"billing change\"\n\nThis reverts commit %s.", target),
				map[string]string{"billing/charge.go": fmt.Sprintf("package billing\n\n// reverted %d\n", d)})
		case d%9 == 0:
			sha := r.Commit(fmt.Sprintf("billing: charge change %d", d), map[string]string{
				"billing/charge.go": fmt.Sprintf("package billing\n\n// change %d\n%s", d, strings.Repeat("var x = 1\n", 30+d%40))})
			if d%18 == 0 {
				reverts = append(reverts, sha)
			}
		default:
			r.Commit(fmt.Sprintf("docs: page %d", d), map[string]string{fmt.Sprintf("docs/page%d.md", d%30): fmt.Sprintf("# %d\n", d)})
		}
	}
	return r
}

// TestLearnedRiskInTheComment: ferry backfills a repository's history
// through git, learns that billing changes get reverted, and says so in
// the sticky comment of a pull request touching billing — with the learned
// reasons in words; a later push teaches only what is new.
func TestLearnedRiskInTheComment(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		src := troubledHistory(t, 400)
		w, o, push, bare := learningWorld(t, db, src, db)
		if err := o.Learn(ctx, push, "main", policy.Default()); err != nil {
			t.Fatal(err)
		}
		m, err := db.RiskModel(ctx, 1)
		if err != nil || m.Changes != 400 || m.HeadSHA != src.Head() {
			t.Fatalf("after the backfill: %d changes at %s, %v", m.Changes, m.HeadSHA, err)
		}

		n := w.sim.AddPullRequest(repo, githubsim.PullRequest{Title: "billing: charge in euros", Files: []githubsim.File{{
			Filename: "billing/charge.go", Status: "modified", Additions: 40, Deletions: 2, Patch: "@@ -1,2 +1,40 @@\n+x"}}})
		s := w.subject(t, "d-1", n, now)
		s.CloneURL = w.sim.CloneURL(repo)
		if err := o.PullRequest(ctx, s, w.policy(t, s)); err != nil {
			t.Fatal(err)
		}
		body := w.risk(n)[0].Body
		if !strings.Contains(body, "**Learned from this repository's history** (400 changes") ||
			!strings.Contains(body, "`billing/") || !strings.Contains(body, "riskier than") {
			t.Fatalf("comment:\n%s", body)
		}
		t.Logf("comment:\n%s", body)

		// A new commit, pushed: only it is learned.
		src.When = now.Add(-time.Hour)
		src.Commit("docs: one more", map[string]string{"docs/more.md": "more\n"})
		src.Publish(bare)
		if err := o.Learn(ctx, push, "main", policy.Default()); err != nil {
			t.Fatal(err)
		}
		before := m.Version
		if m, err = db.RiskModel(ctx, 1); err != nil || m.Changes != 401 || m.Version != before+1 || m.HeadSHA != src.Head() {
			t.Fatalf("after a push: %d changes, version %d, %v", m.Changes, m.Version, err)
		}
	})
}

// learningWorld serves src's history as the repository's git remote and
// returns the world, the risk agent learning from it (keeping its model
// in models), the default branch's subject, and the bare remote (publish
// to it to push).
func learningWorld(t *testing.T, db *store.DB, src *gittest.Repo, models riskagent.Models) (*world, *riskagent.Agent,
	riskagent.Subject, string) {
	t.Helper()
	bare := filepath.Join(t.TempDir(), "api.git")
	src.Publish(bare)
	w := setup(t, db, nil)
	w.sim.ServeGit(repo, bare)
	cache := &git.Cache{Dir: t.TempDir()}
	cfg := riskagent.Config{Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}
	o, err := riskagent.New(cfg, riskagent.Deps{
		Changes:     func(int64) riskagent.Changes { return w.gh.Installation(inst) },
		Publisher:   func(int64) riskagent.Publisher { return w.gh.Installation(inst) },
		Git:         cache,
		Assessments: db, Publications: db, History: db, Control: db, Audit: db, Models: models, Histories: cache})
	if err != nil {
		t.Fatal(err)
	}
	push := riskagent.Subject{ID: "p-1", InstallationID: inst, RepositoryID: 1, Owner: owner, Repo: name, BaseRef: "main",
		CloneURL: w.sim.CloneURL(repo)}
	return w, o, push, bare
}

// TestAttack_LearnedReasonsFromHostilePaths: file names are repository
// content; when a learned reason quotes one, it cannot inject Markdown,
// HTML or links into ferry's comment. And the backfill reads no more of a
// long history than the policy allows.
func TestAttack_LearnedReasonsFromHostilePaths(t *testing.T) {
	const hostile = "billing/x`</sub><img src=x onerror=alert(1)>[pwn](javascript:alert(1))`.go"
	src := gittest.New(t)
	start := now.AddDate(0, 0, -301)
	var reverts []string
	for d := range 300 {
		src.When = start.AddDate(0, 0, d)
		switch {
		case d%6 == 0:
			sha := src.Commit(fmt.Sprintf("change %d", d), map[string]string{hostile: strings.Repeat("x\n", 20+d%30)})
			if d%12 == 0 {
				reverts = append(reverts, sha)
			}
		case d%6 == 3 && len(reverts) > 0:
			src.Commit("Revert\n\nThis reverts commit "+reverts[0]+".", map[string]string{hostile: fmt.Sprint(d)})
			reverts = reverts[1:]
		default:
			src.Commit(fmt.Sprintf("docs %d", d), map[string]string{"docs/a.md": fmt.Sprint(d)})
		}
	}
	db := dbtest.Open(t, dbtest.SQLiteURL(t))
	w, o, push, _ := learningWorld(t, db, src, db)
	bounded := policy.Default()
	bounded.Learning.BackfillCommits = 250
	if err := o.Learn(ctx, push, "main", bounded); err != nil {
		t.Fatal(err)
	}
	if m, _ := db.RiskModel(ctx, 1); m.Changes != 250 {
		t.Fatalf("the backfill read %d commits, the policy allows 250", m.Changes)
	}
	n := w.sim.AddPullRequest(repo, githubsim.PullRequest{Title: "change", Files: []githubsim.File{{
		Filename: hostile, Status: "modified", Additions: 30, Patch: "@@ -1 +1,30 @@\n+x"}}})
	s := w.subject(t, "d-1", n, now)
	if err := o.PullRequest(ctx, s, w.policy(t, s)); err != nil {
		t.Fatal(err)
	}
	body := w.risk(n)[0].Body
	if !strings.Contains(body, "reverts in the last year touched") {
		t.Fatalf("no learned reason quotes the path:\n%s", body)
	}
	// Quoted as code, it is shown as text; nowhere else.
	if !strings.Contains(body, md.Code(hostile)) {
		t.Fatalf("the path is not quoted as code:\n%s", body)
	}
	rest := strings.ReplaceAll(body, md.Code(hostile), "")
	for _, bad := range []string{"<img", "</sub><", "](javascript:"} {
		if strings.Contains(rest, bad) {
			t.Fatalf("the comment carries %q from a file name:\n%s", bad, body)
		}
	}
}

// TestLearnResumesWhereItStopped: a backfill whose job is cancelled after
// its first chunk (the job's time ran out, the process died) keeps what it
// learned; the next call goes on from there, nothing learned twice.
func TestLearnResumesWhereItStopped(t *testing.T) {
	src := troubledHistory(t, 400)
	db := dbtest.Open(t, dbtest.SQLiteURL(t))
	short, cancel := context.WithCancel(ctx)
	defer cancel()
	models := &cancelAfterSave{DB: db, cancel: cancel}
	_, o, push, _ := learningWorld(t, db, src, models)
	if err := o.Learn(short, push, "main", policy.Default()); err == nil {
		t.Fatal("a cancelled job said it finished")
	}
	m, err := db.RiskModel(ctx, 1)
	if err != nil || m.Changes != 200 || m.HeadSHA == src.Head() {
		t.Fatalf("after the cancelled job: %d changes at %s (%v)", m.Changes, m.HeadSHA, err)
	}
	models.cancel = func() {}
	if err := o.Learn(ctx, push, "main", policy.Default()); err != nil {
		t.Fatal(err)
	}
	if m, err = db.RiskModel(ctx, 1); err != nil || m.Changes != 400 || m.HeadSHA != src.Head() {
		t.Fatalf("after the next: %d changes at %s (%v)", m.Changes, m.HeadSHA, err)
	}
}

// cancelAfterSave cancels the job's context once a model is saved.
type cancelAfterSave struct {
	*store.DB
	cancel func()
}

func (c *cancelAfterSave) SaveRiskModel(ctx context.Context, id int64, m assessment.Model, at time.Time) error {
	err := c.DB.SaveRiskModel(ctx, id, m, at)
	c.cancel()
	return err
}
