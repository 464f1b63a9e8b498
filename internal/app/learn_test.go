package app_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/app"
	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/gittest"
	"github.com/ferry-ci/ferry/internal/riskagent"
)

// TestInstallLearnsHistory: installing ferry on a repository backfills its
// risk model from the default branch's history through git, under the
// policy there — before any push; a redelivered event learns nothing twice.
func TestInstallLearnsHistory(t *testing.T) {
	db := dbtest.Open(t, dbtest.SQLiteURL(t))
	sim := githubsim.New(t, githubsim.Config{})
	sim.AddInstallation(inst, owner)
	sim.AddRepo(inst, repo)
	src := gittest.New(t)
	start := time.Now().AddDate(0, 0, -260)
	for d := range 250 {
		src.When = start.AddDate(0, 0, d)
		src.Commit(fmt.Sprintf("change %d", d), map[string]string{fmt.Sprintf("pkg%d/a.go", d%5): fmt.Sprint(d)})
	}
	bare := filepath.Join(t.TempDir(), "api.git")
	src.Publish(bare)
	sim.ServeGit(repo, bare)
	gh, err := github.New(github.Config{AppID: sim.AppID(), PrivateKey: sim.PrivateKeyPEM(), BaseURL: sim.URL(),
		BotLogin: sim.BotLogin(), RetryBase: time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cache := &git.Cache{Dir: t.TempDir()}
	orch, err := riskagent.New(riskagent.Config{Logger: quiet}, riskagent.Deps{
		Changes:     func(int64) riskagent.Changes { return gh.Installation(inst) },
		Publisher:   func(int64) riskagent.Publisher { return gh.Installation(inst) },
		Assessments: db, Publications: db, History: db, Control: db, Audit: db, Models: db, Histories: cache})
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(app.Config{Logger: quiet}, app.Deps{Installations: db, Assessor: orch, Control: db, Audit: db, Heads: db,
		GitHub: func(int64) app.CommandGitHub { return gh.Installation(inst) }})
	w := &world{sim: sim, db: db, app: a}
	w.deliver(t, "installation", sim.InstallationPayload(inst)) // twice: a redelivery
	m, err := db.RiskModel(context.Background(), repoID)
	if err != nil || m.Changes != 250 || m.HeadSHA != src.Head() || m.Version != 2 {
		t.Fatalf("after install: %d changes at %s, version %d (%v)", m.Changes, m.HeadSHA, m.Version, err)
	}
}
