package riskagent_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/assessment"
	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/riskagent"
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
	gh   *github.App
	orch *riskagent.Agent
}

func setup(t *testing.T, db *store.DB, wrap func(riskagent.Publications) riskagent.Publications) *world {
	t.Helper()
	sim := githubsim.New(t, githubsim.Config{})
	sim.AddInstallation(inst, owner)
	sim.AddRepo(inst, repo)
	app, err := github.New(github.Config{AppID: sim.AppID(), PrivateKey: sim.PrivateKeyPEM(), BaseURL: sim.URL(),
		BotLogin: sim.BotLogin(), RetryBase: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var pubs riskagent.Publications = db
	if wrap != nil {
		pubs = wrap(pubs)
	}
	o, err := riskagent.New(riskagent.Config{Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}, riskagent.Deps{
		Changes:     func(id int64) riskagent.Changes { return app.Installation(id) },
		Publisher:   func(id int64) riskagent.Publisher { return app.Installation(id) },
		Assessments: db, Publications: pubs, History: db, Control: db, Audit: db})
	if err != nil {
		t.Fatal(err)
	}
	return &world{sim: sim, db: db, gh: app, orch: o}
}

// policy reads the policy at the subject's base commit, as the application
// does before it asks the agent.
func (w *world) policy(t testing.TB, s riskagent.Subject) policy.Loaded {
	return basePolicy(t, w.gh, s)
}

func basePolicy(t testing.TB, gh *github.App, s riskagent.Subject) policy.Loaded {
	t.Helper()
	data, err := gh.Installation(inst).FileContent(ctx, owner, name, policy.Path, s.BaseSHA)
	if err != nil && github.Classify(err) != github.KindNotFound {
		t.Fatal(err)
	}
	return policy.Load(data, err == nil, s.BaseRef, policy.Options{})
}

// newAgent is the risk agent on the real store and GitHub adapter, with
// git for huge pull requests.
func newAgent(t testing.TB, gh *github.App, db *store.DB, cache *git.Cache) *riskagent.Agent {
	t.Helper()
	o, err := riskagent.New(riskagent.Config{Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}, riskagent.Deps{
		Changes:     func(int64) riskagent.Changes { return gh.Installation(inst) },
		Publisher:   func(int64) riskagent.Publisher { return gh.Installation(inst) },
		Git:         cache,
		Assessments: db, Publications: db, History: db, Control: db, Audit: db})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// assess asks the agent to assess a pull request under its base's policy.
func (w *world) assess(t testing.TB, s riskagent.Subject) error {
	t.Helper()
	return w.orch.PullRequest(ctx, s, w.policy(t, s))
}

func (w *world) subject(t *testing.T, id string, number int, at time.Time) riskagent.Subject {
	t.Helper()
	var pr githubsim.PullRequest
	for _, p := range w.sim.PullRequests(repo) {
		if p.Number == number {
			pr = p
		}
	}
	return riskagent.Subject{ID: id, InstallationID: inst, RepositoryID: 1, Owner: owner, Repo: name, Number: number,
		BaseRef: pr.Base, BaseSHA: pr.BaseSHA, HeadSHA: pr.HeadSHA, EventAt: at, Labels: w.sim.Labels(repo, number)}
}

func (w *world) risk(number int) []githubsim.Comment {
	var out []githubsim.Comment
	for _, c := range w.sim.Comments(repo, number) {
		if strings.HasPrefix(c.Body, github.Marker(riskagent.CommentKey)) {
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
		if err := w.assess(t, s); err != nil {
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
		if err := w.assess(t, w.subject(t, "d-2", n, now.Add(time.Minute))); err != nil {
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

func levels(rows []assessment.Record) []string {
	var out []string
	for _, r := range rows {
		s := r.ID + " " + string(r.Level)
		if r.Published {
			s += " published"
		}
		out = append(out, s)
	}
	return out
}

// failOnce fails the first SetCheckRun: the check run exists on GitHub but
// ferry crashed before recording its id.
type failOnce struct {
	riskagent.Publications
	failed bool
}

func (f *failOnce) SetCheckRun(ctx context.Context, id string, checkRunID int64) error {
	if !f.failed {
		f.failed = true
		return errors.New("crash before recording the check run")
	}
	return f.Publications.SetCheckRun(ctx, id, checkRunID)
}

// TestRetriesPublishOnce: a job retried after dying between creating the
// check run and recording it finds the run instead of creating a second;
// a job run again after it finished does nothing.
func TestRetriesPublishOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		w := setup(t, db, func(s riskagent.Publications) riskagent.Publications { return &failOnce{Publications: s} })
		n := w.sim.AddPullRequest(repo, githubsim.PullRequest{Title: "Drop sessions", Files: risky})
		s := w.subject(t, "d-1", n, now)
		if err := w.assess(t, s); err == nil {
			t.Fatal("the injected crash did not surface")
		}
		for range 2 {
			if err := w.assess(t, s); err != nil {
				t.Fatal(err)
			}
		}
		runs := runsOn(w.sim, s.HeadSHA)
		if len(runs) != 1 || len(runs[0].Annotations) == 0 || runs[0].Conclusion != "neutral" {
			t.Fatalf("check runs %+v", runs)
		}
		if got := w.sim.Count("checks/create", 201); got != 1 {
			t.Fatalf("%d check runs created", got)
		}
		if c := w.risk(n); len(c) != 1 || len(c[0].History) != 0 {
			t.Fatalf("comments %+v", c)
		}
		if got := w.sim.Count("issues/add-labels", 200); got != 1 {
			t.Fatalf("labels added %d times", got)
		}
	})
}

// TestInvalidPolicy: a broken .github/ferry.yml on the base branch gives a
// failing check run with the problem on its line, and a comment; no crash,
// no label.
func TestInvalidPolicy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		w := setup(t, db, nil)
		n := w.sim.AddPullRequest(repo, githubsim.PullRequest{Title: "x", Files: docsOnly})
		s := w.subject(t, "d-1", n, now)
		w.sim.SetFile(repo, s.BaseSHA, ".github/ferry.yml", "version: 1\nrisk:\n  thresholds:\n    medium: 30\n  treshold: 3\n")
		if err := w.assess(t, s); err != nil {
			t.Fatal(err)
		}
		runs := runsOn(w.sim, s.HeadSHA)
		if len(runs) != 1 || runs[0].Conclusion != "failure" || !hasAnnotation(runs[0], ".github/ferry.yml", 5) {
			t.Fatalf("check runs %+v", runs)
		}
		c := w.risk(n)
		if len(c) != 1 || !strings.Contains(c[0].Body, "is not valid") || !strings.Contains(c[0].Body, "line 5") {
			t.Fatalf("comments %+v", c)
		}
		if got := w.sim.Labels(repo, n); len(got) != 0 {
			t.Fatalf("labels %v", got)
		}
	})
}

// TestPolicyFromBase: the policy is read at the base commit; here it asks a
// human for migrations and makes high risk block the check.
func TestPolicyFromBase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		w := setup(t, db, nil)
		n := w.sim.AddPullRequest(repo, githubsim.PullRequest{Title: "Drop sessions", Files: risky})
		s := w.subject(t, "d-1", n, now)
		w.sim.SetFile(repo, s.BaseSHA, ".github/ferry.yml",
			"version: 1\nrisk:\n  high_risk_conclusion: action_required\n  require_human:\n    - \"db/**\"\n")
		if err := w.assess(t, s); err != nil {
			t.Fatal(err)
		}
		runs := runsOn(w.sim, s.HeadSHA)
		if len(runs) != 1 || runs[0].Conclusion != "action_required" {
			t.Fatalf("check runs %+v", runs)
		}
		if c := w.risk(n); len(c) != 1 || !strings.Contains(c[0].Body, `db/\*\*`) || !strings.Contains(c[0].Body, ".github/ferry.yml at main") {
			t.Fatalf("comment:\n%s", c[0].Body)
		}
	})
}

// TestStaleEventIgnored: jobs may run out of order; an older head's event
// after a newer one was assessed publishes nothing.
func TestStaleEventIgnored(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		w := setup(t, db, nil)
		n := w.sim.AddPullRequest(repo, githubsim.PullRequest{Title: "x", Files: docsOnly})
		old := w.subject(t, "d-old", n, now)
		w.sim.SetPullRequestHead(repo, n, strings.Repeat("c", 40), docsOnly, nil)
		if err := w.assess(t, w.subject(t, "d-new", n, now.Add(time.Minute))); err != nil {
			t.Fatal(err)
		}
		if err := w.assess(t, old); err != nil {
			t.Fatal(err)
		}
		if runs := runsOn(w.sim, old.HeadSHA); len(runs) != 0 {
			t.Fatalf("the stale head got check runs %+v", runs)
		}
	})
}

// TestPushLearnsHistory: a push to the default branch gets a check run and
// no comment; a revert in it marks the files it touched, and the next pull
// request touching them carries the history reason.
func TestPushLearnsHistory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		w := setup(t, db, nil)
		before, after := strings.Repeat("1", 40), strings.Repeat("2", 40)
		w.sim.AddComparison(repo, before, after, []githubsim.File{{Filename: "internal/billing/charge.go", Status: "modified",
			Additions: 1, Deletions: 3, Patch: "@@ -1,3 +1,1 @@\n-a\n-b\n-c\n+d"}}, nil)
		push := riskagent.Subject{ID: "p-1", InstallationID: inst, RepositoryID: 1, Owner: owner, Repo: name,
			BaseRef: "main", BaseSHA: before, HeadSHA: after, EventAt: now}
		commits := []riskagent.PushCommit{{SHA: after, At: now.Add(-time.Hour), Paths: []string{"internal/billing/charge.go"},
			Message: "Revert \"Charge twice\"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567."}}
		for range 2 { // a redelivered push changes nothing
			if err := w.orch.Push(ctx, push, commits, w.policy(t, push)); err != nil {
				t.Fatal(err)
			}
		}
		if runs := runsOn(w.sim, after); len(runs) != 1 || runs[0].Conclusion != "success" {
			t.Fatalf("push check runs %+v", runs)
		}
		if n := w.sim.Count("issues/create-comment", 201); n != 0 {
			t.Fatalf("%d comments for a push", n)
		}
		n := w.sim.AddPullRequest(repo, githubsim.PullRequest{Title: "Charge again", Files: []githubsim.File{{
			Filename: "internal/billing/charge.go", Status: "modified", Additions: 3, Patch: "@@ -1,1 +1,4 @@\n d\n+a\n+b\n+c"}}})
		if err := w.assess(t, w.subject(t, "d-1", n, now)); err != nil {
			t.Fatal(err)
		}
		c := w.risk(n)
		if len(c) != 1 || !strings.Contains(c[0].Body, "**history**") {
			t.Fatalf("comment:\n%s", c[0].Body)
		}
		h, err := db.History(ctx, 1, []string{"internal/billing/charge.go"}, now.Add(-24*time.Hour))
		if err != nil || len(h.Incidents["internal/billing/charge.go"]) != 1 || h.Changes["internal/billing/charge.go"] != 1 {
			t.Fatalf("history %+v, %v", h, err)
		}
	})
}

// TestRetryOfOlderHeadPublishesNothing: a job for an older head that
// failed while publishing, retried after a newer head was published, must
// not put its comment and label back.
func TestRetryOfOlderHeadPublishesNothing(t *testing.T) {
	w := setup(t, dbtest.Open(t, dbtest.SQLiteURL(t)), nil)
	n := w.sim.AddPullRequest(repo, githubsim.PullRequest{Title: "Drop sessions", Files: risky})
	old := w.subject(t, "d-old", n, now)
	w.sim.Inject(githubsim.Fault{Method: "POST", Path: `/check-runs$`, Status: 502})
	if err := w.assess(t, old); err == nil {
		t.Fatal("the injected failure did not surface")
	}
	w.sim.SetPullRequestHead(repo, n, strings.Repeat("b", 40), docsOnly, nil)
	if err := w.assess(t, w.subject(t, "d-new", n, now.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	if err := w.assess(t, old); err != nil { // the retry
		t.Fatal(err)
	}
	if runs := runsOn(w.sim, old.HeadSHA); len(runs) != 0 {
		t.Fatalf("the older head was published: %+v", runs)
	}
	if got := w.sim.Labels(repo, n); !slices.Equal(got, []string{"risk: low"}) {
		t.Fatalf("labels %v", got)
	}
	if c := w.risk(n); len(c) != 1 || !strings.Contains(c[0].Body, "low risk") {
		t.Fatalf("comment %+v", c)
	}
}
