package main

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/kubetest"
	"github.com/ferry-ci/ferry/internal/store"
)

// TestDeploy_ResumeAfterCrash: a maintainer's /ferry deploy starts a
// canary; ferry is killed (SIGKILL) while the canary holds between steps;
// restarted, it finishes the deploy exactly once: one GitHub deployment,
// every step sent once, the stable Deployment updated once.
func TestDeploy_ResumeAfterCrash(t *testing.T) {
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	kubetest.App(t, cs, ns, "api", "ghcr.io/acme/api:v0", 4)

	secret := "sim-webhook-secret"
	sim := githubsim.New(t, githubsim.Config{WebhookSecret: []byte(secret)})
	sim.AddInstallation(31, "acme")
	repoID := sim.AddRepo(31, "acme/api")
	sim.SetPermission("acme/api", "max", "maintain")
	sim.SetFile("acme/api", "main", ".github/ferry.yml", `version: 1
environments:
  production:
    namespace: `+ns+`
    deployments: [{name: api}]
    image: "ghcr.io/acme/api:{{ .ShortSHA }}"
    strategy: canary
    canary: {steps: [25, 50, 100], pause: 3s}
    progress_deadline: 60s
`)
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "Ship it", Files: riskyFiles})
	head := sim.PullRequests("acme/api")[0].HeadSHA
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(keyFile, sim.PrivateKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	dsn := dbtest.SQLiteURL(t)
	args := []string{"--database=" + dsn, "--webhook-secret=" + secret, "--job-timeout=4s", "--kubeconfig=" + kubetest.Kubeconfig(t),
		"--github-app-id=" + strconv.FormatInt(sim.AppID(), 10), "--github-private-key-file=" + keyFile, "--github-api-url=" + sim.URL(),
		"--github-bot-login=" + sim.BotLogin()}
	s := startServe(t, args...)
	sim.SetWebhookURL(s.url + "/webhook")
	sim.Comment("acme/api", n, "max", "/ferry deploy production")

	db := dbtest.Open(t, dsn)
	waitFor(t, "the canary to hold at 25%", func() bool {
		d, _ := db.Deploys(context.Background(), repoID, "production")
		return len(d) == 1 && d[0].Step == 2 // steps 0–1 done: the canary runs; step 2 is the pause
	})
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.done
	s.done <- nil

	s2 := startServe(t, args...)
	sim.SetWebhookURL(s2.url + "/webhook")
	var d store.Deploy
	waitFor(t, "the deploy to finish after the restart", func() bool {
		ds, err := db.Deploys(context.Background(), repoID, "production")
		if err != nil || len(ds) != 1 {
			return false
		}
		d = ds[0]
		return d.Terminal()
	})
	if d.Status != store.DeploySucceeded || d.Strategy != "canary" {
		t.Fatalf("deploy %s (%s): %s", d.Status, d.Strategy, d.Message)
	}
	if deps := sim.Deployments("acme/api"); len(deps) != 1 {
		t.Fatalf("%d GitHub deployments, want 1", len(deps))
	}
	steps, err := db.DeploySteps(context.Background(), d.ID)
	if err != nil || len(steps) != 9 {
		t.Fatalf("steps %d, %v", len(steps), err)
	}
	for _, st := range steps {
		if st.Applies != 1 || st.DoneAt.IsZero() {
			t.Fatalf("step %d (%s) sent %d times, done %v", st.N, st.Note, st.Applies, st.DoneAt)
		}
	}
	api, err := cs.AppsV1().Deployments(ns).Get(context.Background(), "api", metav1.GetOptions{})
	if err != nil || api.Generation != 2 {
		t.Fatalf("api generation %d (created, then one image update), %v", api.Generation, err)
	}
	waitFor(t, "the deploy comment to say it succeeded", func() bool {
		for _, c := range sim.Comments("acme/api", n) {
			if strings.Contains(c.Body, "<!-- ferry:deploy-production -->") && strings.Contains(c.Body, "— succeeded") &&
				strings.Count(c.Body, "| done |") == 9 {
				return true
			}
		}
		return false
	})
	want := map[string]int{"ghcr.io/acme/api:" + head[:8]: 4}
	waitFor(t, "every pod to serve the new version", func() bool { return maps.Equal(kubetest.Images(t, cs, ns, "app=api"), want) })
}
