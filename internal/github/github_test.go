package github_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/githubsim"
)

const (
	inst  = int64(77)
	owner = "acme"
	name  = "api"
	repo  = owner + "/" + name
)

var ctx = context.Background()

func setup(t *testing.T, cfg githubsim.Config) (*githubsim.Sim, *github.App, *github.Client) {
	t.Helper()
	sim := githubsim.New(t, cfg)
	sim.AddInstallation(inst, owner)
	sim.AddRepo(inst, repo)
	app, err := github.New(github.Config{
		AppID: sim.AppID(), PrivateKey: sim.PrivateKeyPEM(), BaseURL: sim.URL(), BotLogin: sim.BotLogin(),
		RetryBase: time.Millisecond, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return sim, app, app.Installation(inst)
}

func TestRepository(t *testing.T) {
	_, _, c := setup(t, githubsim.Config{})
	r, err := c.Repository(ctx, owner, name)
	if err != nil {
		t.Fatal(err)
	}
	if r.GetFullName() != repo || r.GetDefaultBranch() != "main" {
		t.Fatalf("got %s (%s)", r.GetFullName(), r.GetDefaultBranch())
	}
	if _, err := c.Repository(ctx, owner, "other"); github.Classify(err) != github.KindNotFound {
		t.Fatalf("unknown repository: %v (%v)", err, github.Classify(err))
	}
}
