package orchestrator_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/orchestrator"
	"github.com/ferry-ci/ferry/internal/store"
)

const (
	inst  = int64(41)
	owner = "acme"
	name  = "api"
	repo  = owner + "/" + name
)

var (
	ctx = context.Background()
	// A weekday afternoon: no off-hours points for pushes.
	now = time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
)

// risky is a migration that drops things and an auth change.
var risky = []githubsim.File{
	{Filename: "db/migrate/20261124_drop_sessions.sql", Status: "added", Additions: 3,
		Patch: "@@ -0,0 +1,3 @@\n+ALTER TABLE users DROP COLUMN legacy_token;\n+DROP TABLE sessions;\n+CREATE INDEX users_email ON users (email);"},
	{Filename: "internal/auth/session.go", Status: "modified", Additions: 2, Deletions: 1,
		Patch: "@@ -10,3 +10,4 @@ func Check() {\n ctx := 1\n-\treturn verify(token)\n+\treturn verifyPassword(token, session)\n+\t// TODO\n }"},
}

var docsOnly = []githubsim.File{{Filename: "docs/guide.md", Status: "modified", Additions: 4, Deletions: 1,
	Patch: "@@ -1,2 +1,5 @@\n # Guide\n-old\n+new\n+more\n+words\n+here"}}

type world struct {
	sim  *githubsim.Sim
	db   *store.DB
	st   orchestrator.Store
	orch *orchestrator.Orchestrator
}

func setup(t *testing.T, db *store.DB, wrap func(orchestrator.Store) orchestrator.Store) *world {
	t.Helper()
	sim := githubsim.New(t, githubsim.Config{})
	sim.AddInstallation(inst, owner)
	sim.AddRepo(inst, repo)
	app, err := github.New(github.Config{AppID: sim.AppID(), PrivateKey: sim.PrivateKeyPEM(), BaseURL: sim.URL(),
		BotLogin: sim.BotLogin(), RetryBase: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var st orchestrator.Store = db
	if wrap != nil {
		st = wrap(st)
	}
	clients := func(id int64) orchestrator.GitHub { return app.Installation(id) }
	o, err := orchestrator.New(orchestrator.Config{Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}, clients, st)
	if err != nil {
		t.Fatal(err)
	}
	return &world{sim: sim, db: db, st: st, orch: o}
}

func (w *world) subject(t *testing.T, id string, number int, at time.Time) orchestrator.Subject {
	t.Helper()
	var pr githubsim.PullRequest
	for _, p := range w.sim.PullRequests(repo) {
		if p.Number == number {
			pr = p
		}
	}
	return orchestrator.Subject{ID: id, InstallationID: inst, RepositoryID: 1, Owner: owner, Repo: name, Number: number,
		BaseRef: pr.Base, BaseSHA: pr.BaseSHA, HeadSHA: pr.HeadSHA, EventAt: at, Labels: w.sim.Labels(repo, number)}
}

func (w *world) risk(number int) []githubsim.Comment {
	var out []githubsim.Comment
	for _, c := range w.sim.Comments(repo, number) {
		if strings.HasPrefix(c.Body, github.Marker(orchestrator.CommentKey)) {
			out = append(out, c)
		}
	}
	return out
}

func runsOn(sim *githubsim.Sim, sha string) []githubsim.CheckRun {
	var out []githubsim.CheckRun
	for _, cr := range sim.CheckRuns(repo) {
		if cr.HeadSHA == sha {
			out = append(out, cr)
		}
	}
	return out
}

// TestPullRequestLifecycle: opened → one comment, a check run with
// annotations on the lines that fired, one label; a push to the PR → the
// same comment edited with what changed, the label swapped, a new check run
// on the new head.
func TestPullRequestLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		w := setup(t, db, nil)
		n := w.sim.AddPullRequest(repo, githubsim.PullRequest{Title: "Drop sessions", Files: risky})
		s := w.subject(t, "d-1", n, now)
		if err := w.orch.PullRequest(ctx, s); err != nil {
			t.Fatal(err)
		}
		comments := w.risk(n)
		if len(comments) != 1 || !strings.Contains(comments[0].Body, "high risk") || !strings.Contains(comments[0].Body, "destructive-sql") {
			t.Fatalf("comments %+v", comments)
		}
		runs := runsOn(w.sim, s.HeadSHA)
		if len(runs) != 1 || runs[0].Name != "ferry/risk" || runs[0].Conclusion != "neutral" || runs[0].ExternalID != "d-1" {
			t.Fatalf("check runs %+v", runs)
		}
		if !hasAnnotation(runs[0], "db/migrate/20261124_drop_sessions.sql", 2) {
			t.Fatalf("no annotation on the DROP TABLE line: %+v", runs[0].Annotations)
		}
		if got := w.sim.Labels(repo, n); !slices.Equal(got, []string{"risk: high"}) {
			t.Fatalf("labels %v", got)
		}

		head2 := strings.Repeat("b", 40)
		w.sim.SetPullRequestHead(repo, n, head2, docsOnly, nil)
		if err := w.orch.PullRequest(ctx, w.subject(t, "d-2", n, now.Add(time.Minute))); err != nil {
			t.Fatal(err)
		}
		comments = w.risk(n)
		if len(comments) != 1 || len(comments[0].History) != 1 {
			t.Fatalf("want the one comment edited once, got %+v", comments)
		}
		if !strings.Contains(comments[0].Body, "low risk") || !strings.Contains(comments[0].Body, "Since the last assessment") {
			t.Fatalf("edited comment:\n%s", comments[0].Body)
		}
		if got := w.sim.Labels(repo, n); !slices.Equal(got, []string{"risk: low"}) {
			t.Fatalf("labels after push %v", got)
		}
		if runs := runsOn(w.sim, head2); len(runs) != 1 || runs[0].Conclusion != "success" {
			t.Fatalf("check runs on the new head %+v", runs)
		}
		rows, err := db.Assessments(ctx, 1, 10)
		if err != nil {
			t.Fatal(err)
		}
		if got := levels(rows); !slices.Equal(got, []string{"d-2 low published", "d-1 high published"}) {
			t.Fatalf("stored %v", got)
		}
	})
}

func hasAnnotation(cr githubsim.CheckRun, path string, line int) bool {
	for _, a := range cr.Annotations {
		if a["path"] == path && a["start_line"] == float64(line) {
			return true
		}
	}
	return false
}

func levels(rows []store.Assessment) []string {
	var out []string
	for _, r := range rows {
		s := r.ID + " " + r.Level
		if r.Published {
			s += " published"
		}
		out = append(out, s)
	}
	return out
}
