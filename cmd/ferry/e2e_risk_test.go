package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/githubsim"
)

var riskyFiles = []githubsim.File{
	{Filename: "db/migrate/20261124_drop_sessions.sql", Status: "added", Additions: 2,
		Patch: "@@ -0,0 +1,2 @@\n+ALTER TABLE users DROP COLUMN legacy_token;\n+DROP TABLE sessions;"},
	{Filename: "internal/auth/session.go", Status: "modified", Additions: 1, Deletions: 1,
		Patch: "@@ -10,2 +10,2 @@ func Check() {\n-\treturn verify(token)\n+\treturn verifyPassword(token, session)\n }"},
}

// simSecret signs the simulator's webhooks in these tests.
const simSecret = "sim-webhook-secret"

// newSim is GitHub with installation 31 of acme and its repository
// acme/api, whose id it returns.
func newSim(t testing.TB) (*githubsim.Sim, int64) {
	t.Helper()
	sim := githubsim.New(t, githubsim.Config{WebhookSecret: []byte(simSecret)})
	sim.AddInstallation(31, "acme")
	return sim, sim.AddRepo(31, "acme/api")
}

// appArgs are the flags that make ferry the simulator's App: the webhook
// secret, the App's id and key, the API and the bot's login.
func appArgs(t testing.TB, sim *githubsim.Sim) []string {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(keyFile, sim.PrivateKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--webhook-secret=" + simSecret, "--github-bot-login=" + sim.BotLogin(),
		"--github-app-id=" + strconv.FormatInt(sim.AppID(), 10), "--github-private-key-file=" + keyFile,
		"--github-api-url=" + sim.URL()}
}

// startWithSim starts ferry in this process as the simulator's App and
// points the simulator's webhooks at it.
func startWithSim(t testing.TB, sim *githubsim.Sim, extra ...string) {
	t.Helper()
	base := startInProcess(t, append(appArgs(t, sim), extra...)...)
	sim.SetWebhookURL(base + "/webhook")
}

func riskComments(sim *githubsim.Sim, repo string, number int) []githubsim.Comment {
	var out []githubsim.Comment
	for _, c := range sim.Comments(repo, number) {
		if strings.HasPrefix(c.Body, github.Marker("risk")) {
			out = append(out, c)
		}
	}
	return out
}

func checkRunsOn(sim *githubsim.Sim, repo, sha string) []githubsim.CheckRun {
	var out []githubsim.CheckRun
	for _, cr := range sim.CheckRuns(repo) {
		if cr.HeadSHA == sha && cr.Name == "ferry/risk" {
			out = append(out, cr)
		}
	}
	return out
}

// TestE2E_PullRequestRisk: GitHub (the simulator) sends the real
// pull_request.opened payload, signed; ferry assesses the change and
// publishes exactly one sticky comment, a check run with annotations and
// one label. A push to the branch (synchronize) edits the same comment,
// swaps the label and adds a check run on the new head. A push to the
// default branch gets a check run and no comment.
func TestE2E_PullRequestRisk(t *testing.T) {
	sim, _ := newSim(t)
	startWithSim(t, sim, "--database="+dbtest.SQLiteURL(t))
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "Drop sessions", Files: riskyFiles})
	if _, status := sim.OpenPullRequest("acme/api", n); status != 202 {
		t.Fatalf("opened answered %d", status)
	}
	head1 := sim.PullRequests("acme/api")[0].HeadSHA
	waitFor(t, "the check run on the opened head", func() bool { return len(checkRunsOn(sim, "acme/api", head1)) == 1 })
	waitFor(t, "the risk label", func() bool { return len(sim.Labels("acme/api", n)) == 1 })
	run := checkRunsOn(sim, "acme/api", head1)[0]
	if run.Conclusion != "neutral" || len(run.Annotations) < 2 || !strings.HasPrefix(run.Title, "high risk") {
		t.Fatalf("check run %+v", run)
	}
	if c := riskComments(sim, "acme/api", n); len(c) != 1 || !strings.Contains(c[0].Body, "destructive-sql") {
		t.Fatalf("comments %+v", c)
	}
	if got := sim.Labels("acme/api", n); !slices.Equal(got, []string{"risk: high"}) {
		t.Fatalf("labels %v", got)
	}

	head2 := strings.Repeat("e", 40)
	docs := []githubsim.File{{Filename: "docs/guide.md", Status: "modified", Additions: 1, Patch: "@@ -1 +1,2 @@\n x\n+y"}}
	if _, status := sim.PushToPullRequest("acme/api", n, head2, docs, nil); status != 202 {
		t.Fatalf("synchronize answered %d", status)
	}
	waitFor(t, "the check run on the new head", func() bool { return len(checkRunsOn(sim, "acme/api", head2)) == 1 })
	waitFor(t, "the label swap", func() bool { return slices.Equal(sim.Labels("acme/api", n), []string{"risk: low"}) })
	c := riskComments(sim, "acme/api", n)
	if len(c) != 1 || len(c[0].History) != 1 || !strings.Contains(c[0].Body, "low risk") || !strings.Contains(c[0].Body, "→ low") {
		t.Fatalf("comments after synchronize %+v", c)
	}

	before, after := sim.Ref("acme/api", "heads/main"), strings.Repeat("f", 40)
	sim.AddComparison("acme/api", before, after, docs, nil)
	if _, status := sim.Push("acme/api", "main", before, after, []githubsim.PushCommit{{SHA: after, Message: "Docs", Author: "octocat", Modified: []string{"docs/guide.md"}}}); status != 202 {
		t.Fatalf("push answered %d", status)
	}
	waitFor(t, "the check run on the pushed commit", func() bool { return len(checkRunsOn(sim, "acme/api", after)) == 1 })
	if n := sim.Count("issues/create-comment", 201); n != 1 {
		t.Fatalf("%d comments created in all", n)
	}
}
