package github_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/githubsim"
)

func ferryComments(sim *githubsim.Sim, number int) []githubsim.Comment {
	var out []githubsim.Comment
	for _, c := range sim.Comments(repo, number) {
		if c.User == sim.BotLogin() && strings.HasPrefix(c.Body, github.Marker("risk")) {
			out = append(out, c)
		}
	}
	return out
}

func TestStickyComment(t *testing.T) {
	sim, _, c := setup(t, githubsim.Config{})
	n := sim.AddPullRequest(repo, githubsim.PullRequest{Title: "x"})
	// A human quoting the marker is never taken for ferry's comment.
	sim.AddComment(repo, n, "mallory", github.Marker("risk")+"\nI am ferry now")
	id1, err := c.UpsertComment(ctx, owner, name, n, "risk", "risk: low")
	if err != nil {
		t.Fatal(err)
	}
	id2, err := c.UpsertComment(ctx, owner, name, n, "risk", "risk: high")
	if err != nil || id2 != id1 {
		t.Fatalf("second upsert: id %d (first %d), %v", id2, id1, err)
	}
	var mine []githubsim.Comment
	for _, cm := range sim.Comments(repo, n) {
		if cm.User == sim.BotLogin() {
			mine = append(mine, cm)
		}
	}
	if len(mine) != 1 || !strings.HasSuffix(mine[0].Body, "risk: high") || len(mine[0].History) != 1 {
		t.Fatalf("ferry's comments: %+v", mine)
	}
	if got := sim.Comments(repo, n)[0].Body; !strings.HasSuffix(got, "I am ferry now") {
		t.Fatalf("human comment changed to %q", got)
	}
	// The same body again is not an edit.
	if _, err := c.UpsertComment(ctx, owner, name, n, "risk", "risk: high"); err != nil {
		t.Fatal(err)
	}
	if h := ferryComments(sim, n)[0].History; len(h) != 1 {
		t.Fatalf("unchanged upsert edited the comment: %d edits", len(h))
	}
}

func TestStickyCommentConcurrent(t *testing.T) {
	sim, _, c := setup(t, githubsim.Config{})
	n := sim.AddPullRequest(repo, githubsim.PullRequest{Title: "x"})
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if _, err := c.UpsertComment(ctx, owner, name, n, "risk", fmt.Sprintf("update %d", i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := ferryComments(sim, n); len(got) != 1 {
		t.Fatalf("%d ferry comments after 10 concurrent upserts, want 1", len(got))
	}
}

func TestStickyCommentHealsDuplicates(t *testing.T) {
	sim, app, _ := setup(t, githubsim.Config{})
	n := sim.AddPullRequest(repo, githubsim.PullRequest{Title: "x"})
	// Two replicas (two App clients) raced and both created.
	other, err := github.New(github.Config{AppID: sim.AppID(), PrivateKey: sim.PrivateKeyPEM(), BaseURL: sim.URL(), BotLogin: sim.BotLogin()})
	if err != nil {
		t.Fatal(err)
	}
	sim.Inject(githubsim.Fault{Method: "GET", Path: "/comments$", Times: 2, Status: 200, Body: "[]"})
	for _, a := range []*github.App{app, other} {
		if _, err := a.Installation(inst).UpsertComment(ctx, owner, name, n, "risk", "racing"); err != nil {
			t.Fatal(err)
		}
	}
	if got := ferryComments(sim, n); len(got) != 2 {
		t.Fatalf("set-up: %d comments, want the 2 duplicates", len(got))
	}
	if _, err := app.Installation(inst).UpsertComment(ctx, owner, name, n, "risk", "healed"); err != nil {
		t.Fatal(err)
	}
	if got := ferryComments(sim, n); len(got) != 1 || !strings.HasSuffix(got[0].Body, "healed") {
		t.Fatalf("after healing: %+v", got)
	}
}

// TestServerErrorStormOnCreate: GitHub creates the comment but answers 502,
// three times. POST is not retried by the adapter; the job's next try finds
// the comment by its marker and updates it. Exactly one comment.
func TestServerErrorStormOnCreate(t *testing.T) {
	sim, _, c := setup(t, githubsim.Config{})
	n := sim.AddPullRequest(repo, githubsim.PullRequest{Title: "x"})
	sim.Inject(githubsim.Fault{Method: "POST", Path: "/comments$", Times: 3, Status: 502, Applied: true})
	var err error
	for attempt := range 3 {
		if _, err = c.UpsertComment(ctx, owner, name, n, "risk", fmt.Sprint("attempt ", attempt)); err == nil {
			break
		}
		if !github.Retryable(err) || github.Classify(err) != github.KindTransient {
			t.Fatalf("502 classified %v", github.Classify(err))
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := ferryComments(sim, n); len(got) != 1 {
		t.Fatalf("%d comments after a 5xx storm, want 1", len(got))
	}
	if posts := sim.Count("issues/create-comment", 0); posts != 1 {
		t.Fatalf("%d POSTs, want 1 (never retried)", sim.Count("issues/create-comment", 0))
	}
}

func TestIdempotentCallsRetry5xx(t *testing.T) {
	sim, _, c := setup(t, githubsim.Config{})
	sim.Inject(githubsim.Fault{Method: "GET", Path: "^/repos/acme/api$", Times: 2, Status: 503})
	if _, err := c.Repository(ctx, owner, name); err != nil {
		t.Fatalf("after two 503s: %v", err)
	}
	sim.Inject(githubsim.Fault{Method: "GET", Path: "^/repos/acme/api$", Times: 10, Status: 500})
	if _, err := c.Repository(ctx, owner, name); github.Classify(err) != github.KindTransient {
		t.Fatalf("a 5xx that lasts: %v (%v)", err, github.Classify(err))
	}
}

func TestSecondaryRateLimitThenSuccess(t *testing.T) {
	sim, _, c := setup(t, githubsim.Config{})
	n := sim.AddPullRequest(repo, githubsim.PullRequest{Title: "x"})
	sim.Inject(githubsim.SecondaryRateLimit("POST", "/comments$", 1))
	start := time.Now()
	if _, err := c.UpsertComment(ctx, owner, name, n, "risk", "after the limit"); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Fatalf("retried after %s, before Retry-After (1s)", waited)
	}
	if got := ferryComments(sim, n); len(got) != 1 {
		t.Fatalf("%d comments", len(got))
	}
}

func TestTokenExpiryAndRefresh(t *testing.T) {
	// Tokens that ghinstallation must refresh (it renews a minute early).
	sim, _, c := setup(t, githubsim.Config{TokenTTL: 61 * time.Second})
	if _, err := c.Repository(ctx, owner, name); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if _, err := c.Repository(ctx, owner, name); err != nil {
		t.Fatal(err)
	}
	if n := sim.TokensIssued(); n != 2 {
		t.Fatalf("%d tokens issued, want 2 (refreshed before expiry)", n)
	}
	// A token revoked early: the 401 makes the adapter take a new one.
	sim.ExpireTokens()
	if _, err := c.Repository(ctx, owner, name); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if n := sim.TokensIssued(); n != 3 {
		t.Fatalf("%d tokens issued, want 3", n)
	}
}

func TestCheckRunAnnotationsBatched(t *testing.T) {
	sim, _, c := setup(t, githubsim.Config{})
	var ann []forge.Annotation
	for i := range 120 {
		ann = append(ann, forge.Annotation{Path: "db/migrate/001.sql", StartLine: i + 1, EndLine: i + 1,
			Level: "warning", Message: fmt.Sprint("finding ", i)})
	}
	actions := []forge.Button{{Label: "Approve", Description: "Approve this head", Identifier: "approve"}}
	id, err := c.CreateCheckRun(ctx, owner, name, forge.CheckRun{Name: "ferry/risk", HeadSHA: strings.Repeat("a", 40),
		Status: "completed", Conclusion: "neutral", Title: "Risk: high", Summary: "summary", Annotations: ann, Buttons: actions})
	if err != nil {
		t.Fatal(err)
	}
	runs := sim.CheckRuns(repo)
	if len(runs) != 1 || runs[0].ID != id || len(runs[0].Annotations) != 120 || runs[0].Updates != 2 || len(runs[0].Actions) != 1 {
		t.Fatalf("check runs %+v", runs)
	}
	if err := c.UpdateCheckRun(ctx, owner, name, id, forge.CheckRun{Name: "ferry/risk", Summary: strings.Repeat("x", 70000), Title: "t"}); err != nil {
		t.Fatalf("oversized summary was not cut: %v", err)
	}
}

func TestCheckRunCompletedNeedsConclusion(t *testing.T) {
	_, _, c := setup(t, githubsim.Config{})
	_, err := c.CreateCheckRun(ctx, owner, name, forge.CheckRun{Name: "ferry/risk", HeadSHA: strings.Repeat("a", 40), Status: "completed"})
	if github.Classify(err) != github.KindValidation {
		t.Fatalf("completed without conclusion: %v", err)
	}
}

func TestLabelsReactionsPermissions(t *testing.T) {
	sim, _, c := setup(t, githubsim.Config{})
	n := sim.AddPullRequest(repo, githubsim.PullRequest{Title: "x"})
	if err := c.AddLabels(ctx, owner, name, n, "risk:high", "ferry"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveLabel(ctx, owner, name, n, "ferry"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveLabel(ctx, owner, name, n, "never-there"); err != nil {
		t.Fatalf("removing an absent label: %v", err)
	}
	if got := sim.Labels(repo, n); len(got) != 1 || got[0] != "risk:high" {
		t.Fatalf("labels %v", got)
	}
	id := sim.AddComment(repo, n, "alice", "/ferry risk")
	for _, r := range []string{"eyes", "rocket", "eyes"} {
		if err := c.React(ctx, owner, name, id, r); err != nil {
			t.Fatal(err)
		}
	}
	if got := sim.Comments(repo, n)[0].Reactions; len(got) != 2 {
		t.Fatalf("reactions %v", got)
	}
	for user, role := range map[string]string{"ada": "admin", "max": "maintain", "wes": "write", "tia": "triage", "rea": "read"} {
		sim.SetPermission(repo, user, role)
	}
	for user, want := range map[string]string{"ada": "admin", "max": "maintain", "wes": "write", "tia": "triage", "rea": "read", "stranger": "none"} {
		if got, err := c.Permission(ctx, owner, name, user); err != nil || got != want {
			t.Errorf("permission of %s: %q, %v; want %q", user, got, err, want)
		}
	}
}

func TestDeployments(t *testing.T) {
	sim, _, c := setup(t, githubsim.Config{})
	id, err := c.CreateDeployment(ctx, owner, name, forge.Deployment{Ref: "main", Environment: "staging", Description: "ferry: rolling"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"queued", "in_progress", "success"} {
		if err := c.SetDeploymentStatus(ctx, owner, name, id, forge.DeploymentStatus{State: s, EnvironmentURL: "https://staging.example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	deps := sim.Deployments(repo)
	if len(deps) != 1 || deps[0].Environment != "staging" || len(deps[0].Statuses) != 3 || deps[0].Statuses[2].State != "success" {
		t.Fatalf("deployments %+v", deps)
	}
}

func TestProposeOpensThenUpdates(t *testing.T) {
	sim, _, c := setup(t, githubsim.Config{})
	p := forge.Proposal{Branch: "ferry/dockerfile", Base: "main", Message: "build: reorder layers", Title: "Optimize Dockerfile",
		Body: "why", Files: map[string]string{"Dockerfile": "FROM scratch\n"}}
	n1, created, err := c.Propose(ctx, owner, name, p)
	if err != nil || !created {
		t.Fatalf("first proposal: #%d created=%v %v", n1, created, err)
	}
	p.Files["Dockerfile"], p.Body = "FROM scratch\nUSER 65532\n", "why, again"
	n2, created, err := c.Propose(ctx, owner, name, p)
	if err != nil || created || n2 != n1 {
		t.Fatalf("second proposal: #%d created=%v %v (first #%d)", n2, created, err, n1)
	}
	prs := sim.PullRequests(repo)
	if len(prs) != 1 || prs[0].Body != "why, again" || prs[0].Head != "ferry/dockerfile" {
		t.Fatalf("pull requests %+v", prs)
	}
	files := sim.TreeFiles(repo, sim.Ref(repo, "heads/ferry/dockerfile"))
	if files["Dockerfile"] != "FROM scratch\nUSER 65532\n" {
		t.Fatalf("branch has %v", files)
	}
}

func TestAppInstallationsAndRepositories(t *testing.T) {
	sim, app, c := setup(t, githubsim.Config{})
	sim.AddInstallation(78, "other")
	insts, err := app.Installations(ctx)
	if err != nil || len(insts) != 2 || insts[0].GetAccount().GetLogin() != owner {
		t.Fatalf("installations %v, %v", insts, err)
	}
	repos, err := c.Repositories(ctx)
	if err != nil || len(repos) != 1 || repos[0].GetFullName() != repo {
		t.Fatalf("repositories %v, %v", repos, err)
	}
	// Another installation's token cannot see this repository.
	sim.AddRepo(78, "other/thing")
	if _, err := app.Installation(78).Repository(ctx, owner, name); github.Classify(err) != github.KindNotFound {
		t.Fatalf("cross-installation read: %v", err)
	}
}

func TestFailedDeliveriesAndRedeliver(t *testing.T) {
	sim, app, _ := setup(t, githubsim.Config{})
	var (
		mu     sync.Mutex
		status = http.StatusServiceUnavailable
		got    []string
	)
	hook := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.Header.Get("X-GitHub-Delivery"))
		w.WriteHeader(status)
	})
	srv := newServer(t, hook)
	sim.SetWebhookURL(srv)
	guid, code := sim.SendWebhook("ping", []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`))
	if code != http.StatusServiceUnavailable {
		t.Fatalf("first delivery answered %d", code)
	}
	failed, err := app.FailedDeliveries(ctx, time.Now().Add(-time.Hour))
	if err != nil || len(failed) != 1 || failed[0].GUID != guid {
		t.Fatalf("failed deliveries %v, %v", failed, err)
	}
	mu.Lock()
	status = http.StatusAccepted
	mu.Unlock()
	if err := app.Redeliver(ctx, failed[0].ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no redelivery")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got[1] != guid {
		t.Fatalf("redelivered as %s, want the same GUID %s", got[1], guid)
	}
	for { // the simulator records the answer just after ferry's handler returns
		failed, err := app.FailedDeliveries(ctx, time.Now().Add(-time.Hour))
		if err == nil && len(failed) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after a successful redelivery: %d, %v", len(failed), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTruncate(t *testing.T) {
	long := "```\n" + strings.Repeat("é line\n", 20000)
	got := github.Truncate(long, github.MaxText)
	if n := len([]rune(got)); n > github.MaxText {
		t.Fatalf("%d characters", n)
	}
	if strings.Count(got, "```")%2 != 0 || !strings.Contains(got, "characters cut") {
		t.Fatalf("fence not closed or no note: …%s", got[len(got)-80:])
	}
	if github.Truncate("short", 10) != "short" {
		t.Fatal("short text changed")
	}
}

func TestTooManyRequestsThenSuccess(t *testing.T) {
	sim, _, c := setup(t, githubsim.Config{})
	sim.Inject(githubsim.Fault{Method: "GET", Path: "^/repos/acme/api$", Status: http.StatusTooManyRequests,
		Header: map[string]string{"Retry-After": "1"}, Body: `{"message":"You have exceeded a secondary rate limit."}`})
	start := time.Now()
	if _, err := c.Repository(ctx, owner, name); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 900*time.Millisecond {
		t.Fatal("did not wait for Retry-After")
	}
}

// TestPrimaryRateLimitIsClassified: an exhausted primary limit is not
// waited out in the call; it is an error the job snoozes on until reset.
func TestPrimaryRateLimitIsClassified(t *testing.T) {
	sim, _, c := setup(t, githubsim.Config{})
	reset := time.Now().Add(90 * time.Second)
	sim.Inject(githubsim.Fault{Method: "GET", Path: "^/repos/acme/api$", Status: http.StatusForbidden,
		Header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "5000",
			"X-RateLimit-Reset": fmt.Sprint(reset.Unix()), "X-RateLimit-Resource": "core"},
		Body: `{"message":"API rate limit exceeded for installation ID 77.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`})
	_, err := c.Repository(ctx, owner, name)
	if github.Classify(err) != github.KindRateLimited {
		t.Fatalf("classified %v: %v", github.Classify(err), err)
	}
	if wait := github.RetryAfter(err, time.Now()); wait < 80*time.Second || wait > 91*time.Second {
		t.Fatalf("retry after %s, want about 90s", wait)
	}
	// Until the reset, the adapter refuses locally: no request hammers GitHub.
	calls := len(sim.Calls())
	if _, err := c.Repository(ctx, owner, name); github.Classify(err) != github.KindRateLimited {
		t.Fatalf("second call: %v", err)
	}
	if len(sim.Calls()) != calls {
		t.Fatal("a request was sent while the primary limit was exhausted")
	}
}

// TestReleaseOperations: a tag is made once and never moved; a release is
// found by its tag; a commit names its pull requests.
func TestReleaseOperations(t *testing.T) {
	sim, _, c := setup(t, githubsim.Config{})
	main := sim.Ref(repo, "heads/main")
	if err := c.CreateTag(ctx, owner, name, "v1.0.0", main); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateTag(ctx, owner, name, "v1.0.0", main); err != nil {
		t.Fatalf("the same tag again: %v", err)
	}
	sim.AddCommit(repo, strings.Repeat("9", 40), main)
	if err := c.CreateTag(ctx, owner, name, "v1.0.0", strings.Repeat("9", 40)); !errors.Is(err, forge.ErrTagElsewhere) {
		t.Fatalf("moving a tag: %v", err)
	}
	if id, err := c.FindRelease(ctx, owner, name, "v1.0.0"); err != nil || id != 0 {
		t.Fatalf("no release yet: %d %v", id, err)
	}
	id, err := c.CreateRelease(ctx, owner, name, forge.Release{Tag: "v1.0.0", Name: "v1.0.0", Body: "notes"})
	if err != nil {
		t.Fatal(err)
	}
	if found, err := c.FindRelease(ctx, owner, name, "v1.0.0"); err != nil || found != id {
		t.Fatalf("found %d, %v; want %d", found, err, id)
	}
	n := sim.AddPullRequest(repo, githubsim.PullRequest{Title: "Rebased"})
	sim.SetPullRequestCommits(repo, n, strings.Repeat("8", 40))
	prs, err := c.CommitPullRequests(ctx, owner, name, strings.Repeat("8", 40))
	if err != nil || len(prs) != 1 || prs[0].Number != n {
		t.Fatalf("pulls %+v %v", prs, err)
	}
}
