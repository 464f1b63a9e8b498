package githubsim_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	gh "github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/githubsim"
)

// These tests speak to the simulator as ferry's adapter does (go-github
// v60); every answer is also checked against GitHub's description by the
// simulator itself, which fails the test on a violation.

const (
	inst     = int64(1)
	owner    = "acme"
	repoName = "api"
	repo     = owner + "/" + repoName
)

var ctx = context.Background()

func newSim(t *testing.T) *githubsim.Sim {
	t.Helper()
	sim := githubsim.New(t, githubsim.Config{})
	sim.AddInstallation(inst, owner)
	sim.AddRepo(inst, repo)
	return sim
}

func client(t *testing.T, sim *githubsim.Sim, token string) *gh.Client {
	t.Helper()
	c := gh.NewClient(nil).WithAuthToken(token)
	u, err := url.Parse(sim.URL())
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	return c
}

// installation is a client with an installation token, as ferry's.
func installation(t *testing.T, sim *githubsim.Sim) *gh.Client {
	return client(t, sim, sim.InstallationToken(inst))
}

func status(resp *gh.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// hooks receives the simulator's webhooks as ferry's edge would: the
// signature checked, the payload parsed by go-github.
type hooks struct {
	mu     sync.Mutex
	events []any
}

func receive(t *testing.T, sim *githubsim.Sim) *hooks {
	t.Helper()
	h := &hooks{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		payload, err := gh.ValidatePayload(r, []byte("githubsim-secret"))
		if err != nil {
			t.Errorf("webhook signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		ev, err := gh.ParseWebHook(gh.WebHookType(r), payload)
		if err != nil {
			t.Errorf("webhook %s: %v", gh.WebHookType(r), err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.events = append(h.events, ev)
		h.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	sim.SetWebhookURL(srv.URL)
	return h
}

// last is the latest event received, which must be a T.
func last[T any](t *testing.T, h *hooks) T {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	var zero T
	if len(h.events) == 0 {
		t.Fatalf("no webhook received")
	}
	ev, ok := h.events[len(h.events)-1].(T)
	if !ok {
		t.Fatalf("last webhook is %T, want %T", h.events[len(h.events)-1], zero)
	}
	return ev
}

func TestAuthenticatedApp(t *testing.T) {
	sim := githubsim.New(t, githubsim.Config{AppID: 99, AppSlug: "ferry-test"})
	sim.AddInstallation(inst, owner)
	now := time.Now()
	jwt := appJWT(t, sim.PrivateKeyPEM(), "99", now, now.Add(time.Minute))
	app, _, err := client(t, sim, jwt).Apps.Get(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if app.GetID() != 99 || app.GetSlug() != "ferry-test" || app.GetSlug()+"[bot]" != sim.BotLogin() ||
		app.GetName() == "" || app.GetOwner().GetLogin() == "" || app.GetPermissions().GetChecks() != "write" {
		t.Fatalf("app %+v", app)
	}
	if _, resp, err := installation(t, sim).Apps.Get(ctx, ""); status(resp) != http.StatusUnauthorized {
		t.Fatalf("GET /app with an installation token: %d, %v", status(resp), err)
	}
}

// branchProtection decodes what go-github's Branch leaves out.
type branchProtection struct {
	Protected  bool `json:"protected"`
	Protection struct {
		Enabled              bool `json:"enabled"`
		RequiredStatusChecks struct {
			EnforcementLevel string                    `json:"enforcement_level"`
			Contexts         []string                  `json:"contexts"`
			Checks           []*gh.RequiredStatusCheck `json:"checks"`
		} `json:"required_status_checks"`
	} `json:"protection"`
}

func getBranch(t *testing.T, c *gh.Client, branch string) branchProtection {
	t.Helper()
	req, err := c.NewRequest("GET", "repos/"+repo+"/branches/"+url.PathEscape(branch), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out branchProtection
	if _, err := c.Do(ctx, req, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBranchProtection(t *testing.T) {
	sim := newSim(t)
	c := installation(t, sim)
	if _, resp, _ := c.Repositories.GetBranch(ctx, owner, repoName, "nope", 0); status(resp) != http.StatusNotFound {
		t.Fatalf("unknown branch: %d", status(resp))
	}
	b, _, err := c.Repositories.GetBranch(ctx, owner, repoName, "main", 0)
	if err != nil || b.GetCommit().GetSHA() != sim.Ref(repo, "heads/main") || b.GetProtected() {
		t.Fatalf("main: %+v, %v", b, err)
	}
	sim.SetBranch(repo, "release/1.0", strings.Repeat("a", 40))
	if rel, _, err := c.Repositories.GetBranch(ctx, owner, repoName, "release/1.0", 0); err != nil || rel.GetCommit().GetSHA() != strings.Repeat("a", 40) {
		t.Fatalf("a branch with a slash: %+v, %v", rel, err)
	}
	if got := getBranch(t, c, "main"); got.Protected || got.Protection.RequiredStatusChecks.EnforcementLevel != "off" {
		t.Fatalf("unprotected main: %+v", got)
	}
	_, resp, err := c.Repositories.GetRequiredStatusChecks(ctx, owner, repoName, "main")
	if status(resp) != http.StatusNotFound || !errors.Is(err, gh.ErrBranchNotProtected) { // go-github matches GitHub's message
		t.Fatalf("required checks of an unprotected branch: %d, %v", status(resp), err)
	}

	sim.SetRequiredChecks(repo, "main", "ci/test", "ferry/risk")
	sim.RequireCheckFromApp(repo, "main", "build", "github-actions")
	actions := sim.AppIDOf("github-actions")
	wantChecks := []*gh.RequiredStatusCheck{{Context: "ci/test"}, {Context: "ferry/risk"}, {Context: "build", AppID: &actions}}
	got := getBranch(t, c, "main")
	if !got.Protected || !got.Protection.Enabled {
		t.Fatalf("protected main: %+v", got)
	}
	if diff := cmp.Diff([]string{"ci/test", "ferry/risk", "build"}, got.Protection.RequiredStatusChecks.Contexts); diff != "" {
		t.Errorf("contexts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantChecks, got.Protection.RequiredStatusChecks.Checks); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	rsc, _, err := c.Repositories.GetRequiredStatusChecks(ctx, owner, repoName, "main")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantChecks, *rsc.Checks); diff != "" {
		t.Errorf("required_status_checks (-want +got):\n%s", diff)
	}
}

// TestCheckSuites: suites list with their Apps; ferry's own suite is made
// by its first check run and follows it.
func TestCheckSuites(t *testing.T) {
	sim := newSim(t)
	c := installation(t, sim)
	sha := sim.Ref(repo, "heads/main")
	actions := sim.AddCheckSuite(repo, sha, "main", "github-actions", "in_progress", "")
	run, _, err := c.Checks.CreateCheckRun(ctx, owner, repoName, gh.CreateCheckRunOptions{Name: "ferry/risk", HeadSHA: sha})
	if err != nil {
		t.Fatal(err)
	}
	suites := sim.CheckSuites(repo)
	if len(suites) != 2 || suites[1].App != "ferry" || suites[1].HeadBranch != "main" || suites[1].Status != "queued" {
		t.Fatalf("suites %+v", suites)
	}
	if run.GetApp().GetID() != sim.AppID() || run.GetApp().GetSlug() != "ferry" || run.GetCheckSuite().GetID() != suites[1].ID {
		t.Fatalf("ferry's check run: app %+v, suite %d", run.GetApp(), run.GetCheckSuite().GetID())
	}
	list, _, err := c.Checks.ListCheckSuitesForRef(ctx, owner, repoName, "main", nil)
	if err != nil {
		t.Fatal(err)
	}
	type suite struct {
		ID                  int64
		App                 string
		AppID               int64
		Branch, Status, SHA string
	}
	var got []suite
	for _, s := range list.CheckSuites {
		got = append(got, suite{s.GetID(), s.GetApp().GetSlug(), s.GetApp().GetID(), s.GetHeadBranch(), s.GetStatus(), s.GetHeadSHA()})
	}
	want := []suite{{actions, "github-actions", 15368, "main", "in_progress", sha}, {suites[1].ID, "ferry", sim.AppID(), "main", "queued", sha}}
	if diff := cmp.Diff(want, got); diff != "" || list.GetTotal() != 2 {
		t.Errorf("check suites of main, total %d (-want +got):\n%s", list.GetTotal(), diff)
	}
	appID := int(sim.AppID())
	if mine, _, _ := c.Checks.ListCheckSuitesForRef(ctx, owner, repoName, sha, &gh.ListCheckSuiteOptions{AppID: &appID}); mine.GetTotal() != 1 {
		t.Errorf("ferry's suites: %d", mine.GetTotal())
	}
	done := gh.UpdateCheckRunOptions{Name: "ferry/risk", Conclusion: gh.String("success")}
	if _, _, err := c.Checks.UpdateCheckRun(ctx, owner, repoName, run.GetID(), done); err != nil {
		t.Fatal(err)
	}
	if s := sim.CheckSuites(repo)[1]; s.Status != "completed" || s.Conclusion != "success" {
		t.Errorf("ferry's suite after its run: %+v", s)
	}
}

// TestOtherAppsCheckRuns: another App's runs, named as required checks
// are, list with their App; ferry cannot change them.
func TestOtherAppsCheckRuns(t *testing.T) {
	sim := newSim(t)
	c := installation(t, sim)
	sha := sim.Ref(repo, "heads/main")
	build := sim.AddCheckRun(repo, sha, "github-actions", "build", "completed", "failure")
	if _, _, err := c.Checks.CreateCheckRun(ctx, owner, repoName, gh.CreateCheckRunOptions{Name: "build", HeadSHA: sha}); err != nil {
		t.Fatal(err)
	}
	runs, _, err := c.Checks.ListCheckRunsForRef(ctx, owner, repoName, "main", &gh.ListCheckRunsOptions{AppID: gh.Int64(15368)})
	if err != nil {
		t.Fatal(err)
	}
	suite := sim.CheckSuites(repo)[0]
	if r := runs.CheckRuns; runs.GetTotal() != 1 || r[0].GetID() != build || r[0].GetApp().GetSlug() != "github-actions" ||
		r[0].GetCheckSuite().GetID() != suite.ID || r[0].GetConclusion() != "failure" {
		t.Fatalf("github-actions' runs: %+v", runs)
	}
	if suite.App != "github-actions" || suite.Status != "completed" || suite.Conclusion != "failure" {
		t.Errorf("its suite %+v", suite)
	}
	if byName, _, _ := c.Checks.ListCheckRunsForRef(ctx, owner, repoName, sha, &gh.ListCheckRunsOptions{CheckName: gh.String("build")}); byName.GetTotal() != 2 {
		t.Errorf("runs named build, every App's: %d", byName.GetTotal())
	}
	fix := gh.UpdateCheckRunOptions{Name: "build", Conclusion: gh.String("success")}
	if _, resp, _ := c.Checks.UpdateCheckRun(ctx, owner, repoName, build, fix); status(resp) != http.StatusForbidden {
		t.Errorf("ferry updated another App's check run: %d", status(resp))
	}
	// filter=latest (the default) keeps an App's newest run of a name.
	sim.AddCheckRun(repo, sha, "github-actions", "build", "completed", "success")
	latest, _, _ := c.Checks.ListCheckRunsForRef(ctx, owner, repoName, sha, &gh.ListCheckRunsOptions{AppID: gh.Int64(15368)})
	if latest.GetTotal() != 1 || latest.CheckRuns[0].GetConclusion() != "success" {
		t.Errorf("latest runs: %+v", latest)
	}
	all, _, _ := c.Checks.ListCheckRunsForRef(ctx, owner, repoName, sha, &gh.ListCheckRunsOptions{AppID: gh.Int64(15368), Filter: gh.String("all")})
	if all.GetTotal() != 2 {
		t.Errorf("all runs: %d", all.GetTotal())
	}
}

func TestCompleteCheckSuite(t *testing.T) {
	sim := newSim(t)
	h := receive(t, sim)
	sha := sim.Ref(repo, "heads/main")
	actions := sim.AddCheckSuite(repo, sha, "main", "github-actions", "in_progress", "")
	if _, code := sim.CompleteCheckSuite(repo, actions, "success"); code != http.StatusAccepted {
		t.Fatalf("webhook answered %d", code)
	}
	ev := last[*gh.CheckSuiteEvent](t, h)
	cs := ev.GetCheckSuite()
	if ev.GetAction() != "completed" || cs.GetID() != actions || cs.GetApp().GetID() != 15368 || cs.GetApp().GetSlug() != "github-actions" ||
		cs.GetConclusion() != "success" || cs.GetHeadSHA() != sha || cs.GetHeadBranch() != "main" || ev.GetInstallation().GetID() != inst {
		t.Fatalf("check_suite event %+v", cs)
	}
	if s := sim.CheckSuites(repo)[0]; s.Status != "completed" || s.Conclusion != "success" {
		t.Errorf("completed suite %+v", s)
	}
	// The older helper still sends the same event, now of a recorded suite.
	sim.CheckSuiteCompleted(repo, "main", sha, "failure")
	if cs := last[*gh.CheckSuiteEvent](t, h).GetCheckSuite(); cs.GetApp().GetSlug() != "ci" || cs.GetConclusion() != "failure" || cs.GetHeadBranch() != "main" {
		t.Fatalf("CheckSuiteCompleted sent %+v", cs)
	}
	if n := len(sim.CheckSuites(repo)); n != 2 {
		t.Errorf("%d suites, want 2", n)
	}
}

func TestCommitStatuses(t *testing.T) {
	sim := newSim(t)
	h := receive(t, sim)
	c := installation(t, sim)
	sha := sim.Ref(repo, "heads/main")
	none, _, err := c.Repositories.GetCombinedStatus(ctx, owner, repoName, sha, nil)
	if err != nil || none.GetState() != "pending" || none.GetTotalCount() != 0 {
		t.Fatalf("no statuses: %+v, %v", none, err)
	}
	sim.SetStatus(repo, sha, "ci/test", "pending")
	sim.SetStatus(repo, sha, "ci/test", "success")
	if _, code := sim.SetStatusAs("mallory", repo, sha, "security", "failure"); code != http.StatusAccepted {
		t.Fatalf("webhook answered %d", code)
	}
	ev := last[*gh.StatusEvent](t, h)
	if ev.GetSender().GetLogin() != "mallory" || ev.GetContext() != "security" || ev.GetState() != "failure" || ev.GetSHA() != sha ||
		len(ev.Branches) != 1 || ev.Branches[0].GetName() != "main" || ev.GetInstallation().GetID() != inst {
		t.Fatalf("status event %+v", ev)
	}
	comb, _, err := c.Repositories.GetCombinedStatus(ctx, owner, repoName, "main", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range comb.Statuses {
		got = append(got, st.GetContext()+"="+st.GetState())
	}
	if diff := cmp.Diff([]string{"ci/test=success", "security=failure"}, got); diff != "" || comb.GetState() != "failure" || comb.GetSHA() != sha {
		t.Errorf("combined %s, %s (-want +got):\n%s", comb.GetState(), comb.GetSHA(), diff)
	}
	all, _, err := c.Repositories.ListStatuses(ctx, owner, repoName, sha, nil)
	if err != nil || len(all) != 3 || all[0].GetCreator().GetLogin() != "mallory" || all[2].GetCreator().GetLogin() != githubsim.StatusCreator {
		t.Fatalf("statuses %+v, %v", all, err)
	}
	mine, _, err := c.Repositories.CreateStatus(ctx, owner, repoName, sha, &gh.RepoStatus{State: gh.String("success"), Context: gh.String("ferry/deploy")})
	if err != nil || mine.GetCreator().GetLogin() != sim.BotLogin() {
		t.Fatalf("ferry's status %+v, %v", mine, err)
	}
	if _, resp, _ := c.Repositories.CreateStatus(ctx, owner, repoName, strings.Repeat("f", 40), &gh.RepoStatus{State: gh.String("success")}); status(resp) != http.StatusUnprocessableEntity {
		t.Errorf("status on an unknown commit: %d", status(resp))
	}
	if n := len(sim.Statuses(repo, sha)); n != 4 {
		t.Errorf("%d statuses recorded, want 4", n)
	}
}

// TestAppIDs: each App slug has one id, ferry's is the configured one.
func TestAppIDs(t *testing.T) {
	sim := githubsim.New(t, githubsim.Config{AppID: 7})
	ids := map[string]int64{}
	for _, slug := range []string{"ferry", "github-actions", "ci", "buildkite", "ci"} {
		ids[slug] = sim.AppIDOf(slug)
	}
	if ids["ferry"] != 7 || ids["github-actions"] != 15368 || ids["ci"] == ids["buildkite"] || ids["ci"] != sim.AppIDOf("ci") {
		t.Fatalf("ids %v", ids)
	}
}

// TestWrappedListPages: check runs, suites and combined statuses page
// inside their object, total_count counting every page.
func TestWrappedListPages(t *testing.T) {
	sim := newSim(t)
	receive(t, sim)
	c := installation(t, sim)
	sha := sim.Ref(repo, "heads/main")
	for i := range 3 {
		app := "ci-" + string(rune('a'+i))
		sim.AddCheckRun(repo, sha, app, "build", "completed", "success")
		sim.SetStatus(repo, sha, app, "success")
	}
	page := gh.ListOptions{PerPage: 2}
	runs, resp, err := c.Checks.ListCheckRunsForRef(ctx, owner, repoName, sha, &gh.ListCheckRunsOptions{ListOptions: page})
	if err != nil || runs.GetTotal() != 3 || len(runs.CheckRuns) != 2 || resp.NextPage != 2 {
		t.Errorf("check runs: total %d, %d on page 1, next %d, %v", runs.GetTotal(), len(runs.CheckRuns), resp.NextPage, err)
	}
	suites, resp, err := c.Checks.ListCheckSuitesForRef(ctx, owner, repoName, sha, &gh.ListCheckSuiteOptions{ListOptions: gh.ListOptions{PerPage: 2, Page: 2}})
	if err != nil || suites.GetTotal() != 3 || len(suites.CheckSuites) != 1 || resp.NextPage != 0 {
		t.Errorf("check suites: total %d, %d on page 2, next %d, %v", suites.GetTotal(), len(suites.CheckSuites), resp.NextPage, err)
	}
	comb, resp, err := c.Repositories.GetCombinedStatus(ctx, owner, repoName, sha, &page)
	if err != nil || comb.GetTotalCount() != 3 || len(comb.Statuses) != 2 || resp.NextPage != 2 {
		t.Errorf("combined status: total %d, %d on page 1, next %d, %v", comb.GetTotalCount(), len(comb.Statuses), resp.NextPage, err)
	}
}
