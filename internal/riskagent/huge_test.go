package riskagent_test

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/riskagent"
)

func gitCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// hugeRepo makes a real repository whose pull request 1 adds 3,001 files;
// the last one, which GitHub's API would not list, drops a table.
func hugeRepo(t *testing.T) (bare, base, head string, listed []githubsim.File) {
	t.Helper()
	work := t.TempDir()
	gitCmd(t, work, "init", "-q", "-b", "main")
	os.WriteFile(filepath.Join(work, "README.md"), []byte("hi\n"), 0o644)
	gitCmd(t, work, "add", "-A")
	gitCmd(t, work, "commit", "-qm", "init")
	base = gitCmd(t, work, "rev-parse", "HEAD")
	gitCmd(t, work, "checkout", "-qb", "big")
	os.MkdirAll(filepath.Join(work, "gen"), 0o755)
	for i := range 3000 {
		name := fmt.Sprintf("gen/f%04d.txt", i)
		os.WriteFile(filepath.Join(work, name), []byte("x\n"), 0o644)
		listed = append(listed, githubsim.File{Filename: name, Status: "added", Additions: 1, Patch: "@@ -0,0 +1 @@\n+x"})
	}
	os.MkdirAll(filepath.Join(work, "zz/migrations"), 0o755)
	os.WriteFile(filepath.Join(work, "zz/migrations/0042_drop.sql"), []byte("DROP TABLE accounts;\n"), 0o644)
	gitCmd(t, work, "add", "-A")
	gitCmd(t, work, "commit", "-qm", "big")
	head = gitCmd(t, work, "rev-parse", "HEAD")
	bare = filepath.Join(t.TempDir(), "api.git")
	gitCmd(t, work, "clone", "-q", "--bare", work, bare)
	gitCmd(t, bare, "update-ref", "refs/pull/1/head", head)
	// GitHub's test merge of the pull request into its base, which ferry
	// diffs from its first parent.
	gitCmd(t, bare, "update-ref", "refs/pull/1/merge", gitCmd(t, bare, "commit-tree", head+"^{tree}", "-p", base, "-p", head, "-m", "Merge"))
	return bare, base, head, listed
}

// TestHugePullRequestReadWithGit: GitHub lists at most 3,000 files of a
// pull request; ferry then fetches the change with go-git (over HTTP, with
// the installation token, from the simulator's git endpoint) and assesses
// all of it — here a destructive migration the API never listed.
func TestHugePullRequestReadWithGit(t *testing.T) {
	bare, base, head, listed := hugeRepo(t)
	db := dbtest.Open(t, dbtest.SQLiteURL(t))
	sim := githubsim.New(t, githubsim.Config{})
	sim.AddInstallation(inst, owner)
	sim.AddRepo(inst, repo)
	sim.ServeGit(repo, bare)
	app, err := github.New(github.Config{AppID: sim.AppID(), PrivateKey: sim.PrivateKeyPEM(), BaseURL: sim.URL(),
		BotLogin: sim.BotLogin(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	n := sim.AddPullRequest(repo, githubsim.PullRequest{Title: "Generated", HeadSHA: head, BaseSHA: base, Files: listed})
	cache := &git.Cache{Dir: t.TempDir()}
	o := newAgent(t, app, db, cache)
	s := riskagent.Subject{ID: "d-1", InstallationID: inst, RepositoryID: 9, Owner: owner, Repo: name, Number: n,
		BaseRef: "main", BaseSHA: base, HeadSHA: head, EventAt: now, CloneURL: sim.CloneURL(repo)}
	if err := o.PullRequest(ctx, s, basePolicy(t, app, s)); err != nil {
		t.Fatal(err)
	}
	row, err := db.GetAssessment(ctx, "d-1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(row.Result), `"files":3001`) || !strings.Contains(strings.Join(row.Rules, ","), "destructive-sql") {
		t.Fatalf("assessed %s with rules %v", row.Level, row.Rules)
	}
	if strings.Contains(string(row.Result), `"truncated":true`) {
		t.Fatal("the whole change was read, yet it is marked partial")
	}
	if _, err := os.Stat(filepath.Join(cache.Dir, "9", "HEAD")); err != nil {
		t.Fatalf("no cached repository: %v", err)
	}
	if cfg, _ := os.ReadFile(filepath.Join(cache.Dir, "9", "config")); strings.Contains(string(cfg), "ghs_") {
		t.Fatal("the token was written to the cache's config")
	}

	// git unreachable: the listed part is assessed, marked partial.
	s.ID, s.CloneURL, s.EventAt = "d-2", "http://127.0.0.1:1/acme/api.git", now.Add(time.Minute)
	if err := o.PullRequest(ctx, s, basePolicy(t, app, s)); err != nil {
		t.Fatal(err)
	}
	row, err = db.GetAssessment(ctx, "d-2")
	if err != nil || !strings.Contains(string(row.Result), `"truncated":true`) || !strings.Contains(string(row.Result), `"fast_path":false`) {
		t.Fatalf("without git: %v, %.300s", err, row.Result)
	}

	// The base's policy lowers the limits: git lists 3,000 files, the
	// migration past them is not read, and the assessment says partial.
	sim.SetFile(repo, base, ".github/ferry.yml", "version: 1\nlimits: {max_files: 3000}\n")
	s.ID, s.CloneURL, s.EventAt = "d-3", sim.CloneURL(repo), now.Add(2*time.Minute)
	if err := o.PullRequest(ctx, s, basePolicy(t, app, s)); err != nil {
		t.Fatal(err)
	}
	row, err = db.GetAssessment(ctx, "d-3")
	if err != nil || !strings.Contains(string(row.Result), `"truncated":true`) || !strings.Contains(string(row.Result), `"files":3000`) ||
		strings.Contains(strings.Join(row.Rules, ","), "destructive-sql") {
		t.Fatalf("policy limits: %v, %v, %.300s", err, row.Rules, row.Result)
	}
}
