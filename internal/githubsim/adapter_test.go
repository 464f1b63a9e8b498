package githubsim_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/githubsim"
)

// TestAdapterRequestsMeetClosedSchemas drives every call of ferry's real
// GitHub adapter once, each optional field set, against request schemas
// closed to unknown properties: nothing ferry sends may be undefined,
// missing or mistyped. (internal/github's own tests run against the same
// checks; this one keeps every write in one place.)
func TestAdapterRequestsMeetClosedSchemas(t *testing.T) {
	rep := &reporter{TB: t}
	sim := githubsim.New(rep, githubsim.Config{})
	sim.AddInstallation(77, "acme")
	sim.AddRepo(77, "acme/api")
	app, err := github.New(github.Config{AppID: sim.AppID(), PrivateKey: sim.PrivateKeyPEM(), BaseURL: sim.URL(),
		RetryBase: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	c := app.Installation(77)
	ctx := context.Background()
	head := strings.Repeat("a", 40)
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "t", HeadSHA: head,
		Files:   []githubsim.File{{Filename: "a.go", Status: "modified", Additions: 1, Patch: "@@ -1 +1 @@\n-a\n+b"}},
		Commits: []githubsim.Commit{{SHA: head, Message: "m", Author: "alice", Date: time.Now()}}})
	sim.SetFile("acme/api", "main", ".github/ferry.yml", "version: 1\n")
	sim.SetRequiredChecks("acme/api", "main", "ci/test")

	for _, s := range adapterCalls(ctx, sim, app, c, n, head) {
		if err := s.run(); err != nil {
			t.Errorf("%s: %v", s.name, err)
		}
	}
	if got := rep.reported(); got != "" {
		t.Errorf("the simulator reported ferry's requests:\n%s", got)
	}
	written := map[string]bool{}
	for _, call := range sim.Calls() {
		if call.Method != http.MethodGet {
			written[call.Operation] = true
		}
	}
	for _, op := range []string{"apps/create-installation-access-token", "checks/create", "checks/update",
		"issues/create-comment", "issues/update-comment", "issues/add-labels", "issues/remove-label",
		"reactions/create-for-issue-comment", "repos/create-deployment", "repos/create-deployment-status",
		"git/create-tree", "git/create-commit", "git/create-ref", "git/update-ref", "pulls/create", "pulls/update",
		"apps/redeliver-webhook-delivery"} {
		if !written[op] {
			t.Errorf("%s was not exercised (written: %v)", op, slices.Sorted(maps.Keys(written)))
		}
	}
}

type adapterCall struct {
	name string
	run  func() error
}

// adapterCalls are the adapter's calls, each optional field set, on pull
// request n whose head is head.
func adapterCalls(ctx context.Context, sim *githubsim.Sim, app *github.App, c *github.Client, n int, head string) []adapterCall {
	return []adapterCall{
		{"bot login", func() error { _ = app.BotLogin(ctx); return nil }},
		{"installations", func() error { _, err := app.Installations(ctx); return err }},
		{"repositories", func() error { _, err := c.Repositories(ctx); return err }},
		{"repository", func() error { _, err := c.Repository(ctx, "acme", "api"); return err }},
		{"file", func() error { _, err := c.FileContent(ctx, "acme", "api", ".github/ferry.yml", "main"); return err }},
		{"pull request", func() error { _, err := c.PullRequest(ctx, "acme", "api", n); return err }},
		{"change", func() error { _, err := c.PullRequestChange(ctx, "acme", "api", n, "main", head); return err }},
		{"head authors", func() error { _, err := c.HeadAuthors(ctx, "acme", "api", n); return err }},
		{"branch head", func() error { _, err := c.BranchHead(ctx, "acme", "api", "main"); return err }},
		{"required checks", func() error { _, _, err := c.RequiredChecks(ctx, "acme", "api", "main"); return err }},
		{"commit checks", func() error { _, err := c.CommitChecks(ctx, "acme", "api", head); return err }},
		{"permission", func() error { _, err := c.Permission(ctx, "acme", "api", "alice"); return err }},
		{"check run", func() error { return checkRunCalls(ctx, c, head) }},
		{"comment", func() error {
			if _, err := c.UpsertComment(ctx, "acme", "api", n, "risk", "first"); err != nil {
				return err
			}
			_, err := c.UpsertComment(ctx, "acme", "api", n, "risk", "second")
			return err
		}},
		{"labels", func() error {
			if err := c.AddLabels(ctx, "acme", "api", n, "risk:high"); err != nil {
				return err
			}
			return c.RemoveLabel(ctx, "acme", "api", n, "risk:high")
		}},
		{"reaction", func() error {
			return c.React(ctx, "acme", "api", sim.AddComment("acme/api", n, "alice", "/ferry risk"), "eyes")
		}},
		{"deployment", func() error { return deploymentCalls(ctx, c, head) }},
		{"proposal, then its update", func() error {
			p := forge.Proposal{Branch: "ferry/deploy-production", Base: "main",
				Message: "deploy", Title: "Deploy", Body: "why", Files: map[string]string{"deploy/prod.txt": head}}
			if _, _, err := c.Propose(ctx, "acme", "api", p); err != nil {
				return err
			}
			p.Body, p.Files["deploy/prod.txt"] = "why, again", "next"
			_, _, err := c.Propose(ctx, "acme", "api", p)
			return err
		}},
		{"redelivery", func() error { return redeliveryCalls(ctx, sim, app) }},
	}
}

func checkRunCalls(ctx context.Context, c *github.Client, head string) error {
	var ann []forge.Annotation
	for i := range 60 { // beyond 50: the rest follow in an update
		ann = append(ann, forge.Annotation{Path: "a.go", StartLine: i + 1, EndLine: i + 1, Level: "warning",
			Title: "t", Message: fmt.Sprint("finding ", i)})
	}
	run := forge.CheckRun{Name: "ferry/risk", HeadSHA: head, Status: "in_progress", ExternalID: "assess-1",
		Title: "Risk", Summary: "s", Text: "t", Annotations: ann,
		Buttons: []forge.Button{{Label: "Approve", Description: "Approve this head", Identifier: "approve"}}}
	id, err := c.CreateCheckRun(ctx, "acme", "api", run)
	if err != nil {
		return err
	}
	run.Status, run.Conclusion = "completed", "neutral"
	if err := c.UpdateCheckRun(ctx, "acme", "api", id, run); err != nil {
		return err
	}
	_, err = c.FindCheckRun(ctx, "acme", "api", head, "ferry/risk", "assess-1")
	return err
}

func deploymentCalls(ctx context.Context, c *github.Client, head string) error {
	id, err := c.CreateDeployment(ctx, "acme", "api", forge.Deployment{Ref: head, Environment: "production",
		Description: "ferry: canary", Task: "deploy", Payload: map[string]any{"ferry": "d-1"}, Production: true})
	if err != nil {
		return err
	}
	if err := c.SetDeploymentStatus(ctx, "acme", "api", id, forge.DeploymentStatus{State: "in_progress",
		Description: "canary 10%", EnvironmentURL: "https://example.com", LogURL: "https://ferry.example.com/d/1"}); err != nil {
		return err
	}
	_, err = c.FindDeployment(ctx, "acme", "api", head, "production", "ferry", "d-1")
	return err
}

// redeliveryCalls fails one delivery, then has ferry find and redeliver it.
func redeliveryCalls(ctx context.Context, sim *githubsim.Sim, app *github.App) error {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer down.Close()
	sim.SetWebhookURL(down.URL)
	since := time.Now().Add(-time.Minute)
	sim.SendWebhook("ping", []byte(`{"zen":"Design for failure."}`))
	failed, err := app.FailedDeliveries(ctx, since)
	if err != nil {
		return err
	}
	if len(failed) != 1 {
		return fmt.Errorf("failed deliveries: %d, want 1", len(failed))
	}
	return app.Redeliver(ctx, failed[0].ID)
}
