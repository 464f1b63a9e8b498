package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/app"
	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/command"
	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/riskagent"
	"github.com/ferry-ci/ferry/internal/store"
	"github.com/ferry-ci/ferry/manifest"
)

const (
	inst   = int64(51)
	owner  = "acme"
	name   = "api"
	repo   = owner + "/" + name
	repoID = int64(1001) // the simulator's id of the first repository
)

var migration = []githubsim.File{{Filename: "db/migrate/001_drop.sql", Status: "added", Additions: 1,
	Patch: "@@ -0,0 +1 @@\n+DROP TABLE sessions;"}}

type world struct {
	sim *githubsim.Sim
	db  *store.DB
	app *app.App
	n   int // the pull request
	seq int
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	sim := githubsim.New(t, githubsim.Config{})
	sim.AddInstallation(inst, owner)
	sim.AddRepo(inst, repo)
	gh, err := github.New(github.Config{AppID: sim.AppID(), PrivateKey: sim.PrivateKeyPEM(), BaseURL: sim.URL(),
		BotLogin: sim.BotLogin(), RetryBase: time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	orch, err := riskagent.New(riskagent.Config{Logger: quiet}, riskagent.Deps{
		Changes:     func(int64) riskagent.Changes { return gh.Installation(inst) },
		Publisher:   func(int64) riskagent.Publisher { return gh.Installation(inst) },
		Assessments: db, Publications: db, History: db, Control: db, Audit: db})
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(app.Config{Logger: quiet}, app.Deps{Installations: db, Assessor: orch, Control: db, Audit: db, Heads: db,
		GitHub: func(int64) app.CommandGitHub { return gh.Installation(inst) }})
	w := &world{sim: sim, db: db, app: a}
	w.n = sim.AddPullRequest(repo, githubsim.PullRequest{Title: "Drop sessions", Files: migration})
	for login, role := range map[string]string{"ada": "admin", "max": "maintain", "wes": "write", "tri": "triage", "rey": "read"} {
		sim.SetPermission(repo, login, role)
	}
	return w
}

func (w *world) deliver(t *testing.T, ev string, payload []byte) {
	t.Helper()
	w.seq++
	d := event.Delivery{ID: fmt.Sprintf("%s-%d", t.Name(), w.seq), Event: ev, Payload: payload, ReceivedAt: time.Now()}
	s, err := event.Summarize(payload)
	if err != nil {
		t.Fatal(err)
	}
	s.Apply(&d)
	if !w.app.Handles(ev, d.Action) {
		t.Fatalf("%s.%s is not routed", ev, d.Action)
	}
	for range 2 { // handled again after a crash: the same result
		if err := w.app.HandleDelivery(context.Background(), d); err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
	}
}

// comment posts body as login on the pull request and hands ferry the
// real issue_comment payload; it returns the comment's reactions.
func (w *world) comment(t *testing.T, login, body, action string) []string {
	t.Helper()
	id := w.sim.AddComment(repo, w.n, login, body)
	w.deliver(t, "issue_comment", w.sim.CommentPayload(action, repo, id))
	for _, c := range w.sim.Comments(repo, w.n) {
		if c.ID == id {
			return c.Reactions
		}
	}
	return nil
}

func (w *world) lastDecision(t *testing.T) audit.Decision {
	t.Helper()
	ds, err := w.db.Decisions(context.Background(), audit.Filter{Repository: repo})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Actor != audit.Ferry {
			return d
		}
	}
	t.Fatalf("no decision by a person in %v", ds)
	return audit.Decision{}
}

func (w *world) reply(login string) string {
	for _, c := range w.sim.Comments(repo, w.n) {
		if c.User == w.sim.BotLogin() && strings.Contains(c.Body, "<!-- ferry:reply-") && strings.Contains(c.Body, "@"+login) {
			return c.Body
		}
	}
	return ""
}

func TestGate(t *testing.T) {
	for _, tc := range []struct {
		name, login, body string
		action            string // created (default) or edited
		setup             func(t *testing.T, w *world)
		reactions         []string   // on the comment
		kind              audit.Kind // the audit row
		actor             string
		output            string // its output begins so
		reply             string // the reply contains this ("" = none)
	}{
		{name: "admin pauses", login: "ada", body: "/ferry pause db failover", reactions: []string{"eyes", "rocket"},
			kind: audit.KindPause, actor: "ada", output: "paused: db failover"},
		{name: "maintainer deploys, no target yet", login: "max", body: "/ferry deploy staging", reactions: []string{"eyes", "confused"},
			kind: audit.KindCommand, actor: "max", output: "refused: no deploy target configured for staging", reply: "no deploy target configured for staging"},
		{name: "writer may not pause", login: "wes", body: "/ferry pause", reactions: []string{"eyes", "confused"},
			kind: audit.KindCommand, actor: "wes", output: "refused: /ferry pause needs maintain permission; you have write", reply: "needs maintain permission"},
		{name: "writer approves", login: "wes", body: "/ferry approve", reactions: []string{"eyes", "rocket"},
			kind: audit.KindApproval, actor: "wes", output: "approved "},
		{name: "triage may not approve", login: "tri", body: "/ferry approve", reactions: []string{"eyes", "confused"},
			kind: audit.KindCommand, actor: "tri", output: "refused: /ferry approve needs write permission; you have triage", reply: "you have triage"},
		{name: "reader asks for help", login: "rey", body: "thanks\n/ferry help", reactions: []string{"eyes", "rocket"},
			kind: audit.KindCommand, actor: "rey", output: "help shown", reply: "`/ferry rollback <env> [--force]`"},
		{name: "reader may not re-assess", login: "rey", body: "/ferry risk", reactions: []string{"eyes", "confused"},
			kind: audit.KindCommand, actor: "rey", output: "refused: /ferry risk needs write permission; you have read", reply: "you have read"},
		{name: "stranger has none", login: "nobody", body: "/ferry help", reactions: []string{"eyes", "confused"},
			kind: audit.KindCommand, actor: "nobody", output: "refused: /ferry help needs read permission; you have none", reply: "you have none"},
		{name: "bot", login: "other-app[bot]", body: "/ferry pause", reactions: nil,
			kind: audit.KindCommand, actor: "other-app[bot]", output: "refused: bots never trigger commands"},
		{name: "edited comment", login: "ada", body: "/ferry pause", action: "edited", reactions: nil,
			kind: audit.KindCommand, actor: "ada", output: "refused: edited comments never act"},
		{name: "fork author has read", login: "forker", body: "/ferry approve", reactions: []string{"eyes", "confused"},
			setup: func(t *testing.T, w *world) {
				w.n = w.sim.AddPullRequest(repo, githubsim.PullRequest{Title: "From a fork", User: "forker", HeadRepo: "forker/api", Files: migration})
				w.sim.SetPermission(repo, "forker", "write")
			},
			kind: audit.KindCommand, actor: "forker", output: "refused: /ferry approve needs write permission; the author of a pull request from a fork has read",
			reply: "from a fork has read"},
		{name: "paused repository refuses deploys", login: "max", body: "/ferry deploy production", reactions: []string{"eyes", "confused"},
			setup: func(t *testing.T, w *world) { w.comment(t, "ada", "/ferry pause incident 42", "created") },
			kind:  audit.KindCommand, actor: "max", output: "refused: ferry is paused by @ada: incident 42", reply: "paused by @&#8203;ada"},
		{name: "policy raises deploy to admin", login: "max", body: "/ferry deploy production", reactions: []string{"eyes", "confused"},
			setup: func(t *testing.T, w *world) {
				w.sim.SetFile(repo, "main", ".github/ferry.yml", "version: 1\ncommands:\n  deploy: {permission: admin}\n")
			},
			kind: audit.KindCommand, actor: "max", output: "refused: /ferry deploy needs admin permission; you have maintain", reply: "needs admin"},
		{name: "policy names a user", login: "wes", body: "/ferry pause", reactions: []string{"eyes", "rocket"},
			setup: func(t *testing.T, w *world) {
				w.sim.SetFile(repo, "main", ".github/ferry.yml", "version: 1\ncommands:\n  pause: {users: [wes]}\n")
			},
			kind: audit.KindPause, actor: "wes", output: "paused"},
		{name: "invalid policy refuses what acts", login: "ada", body: "/ferry pause", reactions: []string{"eyes", "confused"},
			setup: func(t *testing.T, w *world) {
				w.sim.SetFile(repo, "main", ".github/ferry.yml", "version: 1\ncommands:\n  pause: {permision: read}\n")
			},
			kind: audit.KindCommand, actor: "ada", output: "refused: .github/ferry.yml on the default branch is invalid; fix it first", reply: "is invalid"},
		{name: "the author may not approve", login: "octocat", body: "/ferry approve", reactions: []string{"eyes", "confused"},
			setup: func(t *testing.T, w *world) { w.sim.SetPermission(repo, "octocat", "admin") },
			kind:  audit.KindCommand, actor: "octocat", output: "refused: the author of a pull request cannot approve it", reply: "cannot approve"},
		{name: "feedback on an unknown decision", login: "wes", body: "/ferry feedback wrong rollback-nope", reactions: []string{"eyes", "confused"},
			kind: audit.KindCommand, actor: "wes", output: "refused: no decision of ferry's \"rollback-nope\" in this repository", reply: "no decision"},
		{name: "unknown verb", login: "max", body: "/ferry dance", reactions: []string{"eyes", "confused"},
			kind: audit.KindCommand, actor: "max", output: "refused: unknown command \"dance\": try /ferry help", reply: "unknown command \"dance\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, dbtest.Open(t, dbtest.SQLiteURL(t)))
			if tc.setup != nil {
				tc.setup(t, w)
			}
			action := tc.action
			if action == "" {
				action = "created"
			}
			got := w.comment(t, tc.login, tc.body, action)
			if !slices.Equal(got, tc.reactions) {
				t.Errorf("reactions %v, want %v", got, tc.reactions)
			}
			d := w.lastDecision(t)
			if d.Kind != tc.kind || d.Actor != tc.actor || !strings.HasPrefix(d.Output, tc.output) {
				t.Errorf("decision %s by %s: %q; want %s by %s: %q", d.Kind, d.Actor, d.Output, tc.kind, tc.actor, tc.output)
			}
			if r := w.reply(tc.login); !strings.Contains(r, tc.reply) || (tc.reply == "" && r != "") {
				t.Errorf("reply %q, want it to contain %q", r, tc.reply)
			}
		})
	}
}

func (w *world) runsOn(sha string) []githubsim.CheckRun {
	var out []githubsim.CheckRun
	for _, cr := range w.sim.CheckRuns(repo) {
		if cr.HeadSHA == sha {
			out = append(out, cr)
		}
	}
	return out
}

func (w *world) sticky() string {
	for _, c := range w.sim.Comments(repo, w.n) {
		if strings.HasPrefix(c.Body, github.Marker("risk")) {
			return c.Body
		}
	}
	return ""
}

func (w *world) head() string {
	for _, p := range w.sim.PullRequests(repo) {
		if p.Number == w.n {
			return p.HeadSHA
		}
	}
	return ""
}

func hasAction(cr githubsim.CheckRun, id string) bool {
	for _, a := range cr.Actions {
		if a["identifier"] == id {
			return true
		}
	}
	return false
}

// TestApprovalBindsToHead: where policy asks for a human, an approval
// turns the check green for that head only; a push voids it (the comment
// says so), a button on an older head's check run is refused, and the
// button on the current one approves.
func TestApprovalBindsToHead(t *testing.T) {
	w := newWorld(t, dbtest.Open(t, dbtest.SQLiteURL(t)))
	head1 := w.head()
	base := w.sim.PullRequests(repo)[0].BaseSHA
	w.sim.SetFile(repo, base, ".github/ferry.yml", "version: 1\nrisk:\n  high_risk_conclusion: action_required\n  require_human: [\"db/**\"]\n")
	w.deliver(t, "pull_request", w.sim.PullRequestPayload("opened", repo, w.n))
	runs := w.runsOn(head1)
	if len(runs) != 1 || runs[0].Conclusion != "action_required" || !hasAction(runs[0], "approve") {
		t.Fatalf("before approval: %+v", runs)
	}
	if got := w.comment(t, "wes", "/ferry approve", "created"); !slices.Equal(got, []string{"eyes", "rocket"}) {
		t.Fatalf("reactions %v", got)
	}
	runs = w.runsOn(head1)
	if last := runs[len(runs)-1]; last.Conclusion != "success" || hasAction(last, "approve") {
		t.Fatalf("after approval: %+v", last)
	}
	if !strings.Contains(w.sticky(), "approved by @&#8203;wes") {
		t.Fatalf("comment:\n%s", w.sticky())
	}

	head2 := strings.Repeat("d", 40)
	w.sim.SetPullRequestHead(repo, w.n, head2, migration, nil)
	w.deliver(t, "pull_request", w.sim.PullRequestPayload("synchronize", repo, w.n))
	runs2 := w.runsOn(head2)
	if len(runs2) != 1 || runs2[0].Conclusion != "action_required" {
		t.Fatalf("after push: %+v", runs2)
	}
	if !strings.Contains(w.sticky(), "Approval by @&#8203;wes (for `"+head1[:8]+"`) is void") {
		t.Fatalf("comment after push:\n%s", w.sticky())
	}

	w.deliver(t, "check_run", w.sim.ButtonPayload(repo, runs[0].ID, "approve", "max"))
	if d := w.lastDecision(t); d.Actor != "max" || !strings.Contains(d.Output, "not the head of a pull request") {
		t.Fatalf("stale button: %+v", d)
	}
	w.deliver(t, "check_run", w.sim.ButtonPayload(repo, runs2[0].ID, "approve", "max"))
	runs2 = w.runsOn(head2)
	if last := runs2[len(runs2)-1]; last.Conclusion != "success" {
		t.Fatalf("after the button: %+v", last)
	}
}

// TestPauseHoldsAndResumePublishes: while paused, an assessment only
// updates the comment to say so — no check run, no label change; resume
// publishes what waited. explain shows a decision's evidence.
func TestPauseHoldsAndResumePublishes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.deliver(t, "pull_request", w.sim.PullRequestPayload("opened", repo, w.n))
		if got := w.sim.Labels(repo, w.n); !slices.Equal(got, []string{"risk: high"}) {
			t.Fatalf("labels %v", got)
		}
		w.comment(t, "max", "/ferry pause release freeze", "created")

		head2 := strings.Repeat("e", 40)
		w.sim.SetPullRequestHead(repo, w.n, head2, []githubsim.File{{Filename: "docs/a.md", Status: "modified", Additions: 1, Patch: "@@ -1 +1,2 @@\n a\n+b"}}, nil)
		w.deliver(t, "pull_request", w.sim.PullRequestPayload("synchronize", repo, w.n))
		if !strings.Contains(w.sticky(), "Paused by @&#8203;max**: release freeze") || !strings.Contains(w.sticky(), "low risk") {
			t.Fatalf("comment while paused:\n%s", w.sticky())
		}
		if runs := w.runsOn(head2); len(runs) != 0 {
			t.Fatalf("check run while paused: %+v", runs)
		}
		if got := w.sim.Labels(repo, w.n); !slices.Equal(got, []string{"risk: high"}) {
			t.Fatalf("labels changed while paused: %v", got)
		}

		w.comment(t, "ada", "/ferry resume", "created")
		if runs := w.runsOn(head2); len(runs) != 1 || runs[0].Conclusion != "success" {
			t.Fatalf("after resume: %+v", runs)
		}
		if got := w.sim.Labels(repo, w.n); !slices.Equal(got, []string{"risk: low"}) {
			t.Fatalf("labels after resume %v", got)
		}
		if strings.Contains(w.sticky(), "Paused") {
			t.Fatalf("comment after resume:\n%s", w.sticky())
		}

		w.comment(t, "rey", "/ferry explain", "created")
		if r := w.reply("rey"); !strings.Contains(r, "Decision `assess-") || !strings.Contains(r, "low 3/100") {
			t.Fatalf("explain:\n%s", r)
		}
	})
}

// TestSchemaNamesEveryCommand: the policy schema's list of verbs is the
// command table's.
func TestSchemaNamesEveryCommand(t *testing.T) {
	var schema struct {
		Properties struct {
			Commands struct {
				PropertyNames struct {
					Enum []string `json:"enum"`
				} `json:"propertyNames"`
			} `json:"commands"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(manifest.PolicySchema, &schema); err != nil {
		t.Fatal(err)
	}
	var verbs []string
	for _, s := range command.Specs {
		verbs = append(verbs, s.Verb)
	}
	if got := schema.Properties.Commands.PropertyNames.Enum; !slices.Equal(got, verbs) {
		t.Fatalf("schema verbs %v, command table %v", got, verbs)
	}
}

// TestCommentBindsToItsHead: an approval written before a push but handled
// after it does not approve the new head.
func TestCommentBindsToItsHead(t *testing.T) {
	w := newWorld(t, dbtest.Open(t, dbtest.SQLiteURL(t)))
	w.deliver(t, "pull_request", w.sim.PullRequestPayload("opened", repo, w.n))
	id := w.sim.AddComment(repo, w.n, "wes", "/ferry approve")
	time.Sleep(1100 * time.Millisecond) // GitHub's times have whole seconds: the push must come a second later
	w.sim.SetPullRequestHead(repo, w.n, strings.Repeat("f", 40), migration, nil)
	w.deliver(t, "pull_request", w.sim.PullRequestPayload("synchronize", repo, w.n))
	w.deliver(t, "issue_comment", w.sim.CommentPayload("created", repo, id))
	if d := w.lastDecision(t); d.Kind != audit.KindCommand || !strings.Contains(d.Output, "commits were pushed since") {
		t.Fatalf("decision %+v", d)
	}
	if approvals, err := w.db.Approvals(context.Background(), repoID, w.n); err != nil || len(approvals) != 0 {
		t.Fatalf("approvals %+v, %v", approvals, err)
	}
}
