package github_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

func TestFileContentAndETag(t *testing.T) {
	sim, _, c := setup(t, githubsim.Config{})
	sim.SetFile(repo, "main", ".github/ferry.yml", "version: 1\n")
	for range 3 {
		b, err := c.FileContent(ctx, owner, name, ".github/ferry.yml", "main")
		if err != nil || string(b) != "version: 1\n" {
			t.Fatalf("content %q, %v", b, err)
		}
	}
	// Three reads, one counted: the repeats were answered 304.
	if notModified := sim.Count("repos/get-content", 304); notModified != 2 {
		t.Fatalf("%d conditional hits, want 2", sim.Count("repos/get-content", 304))
	}
	if used := sim.RateUsed("installation:77"); used != 1 {
		t.Fatalf("rate limit used %d, want 1", used)
	}
	sim.SetFile(repo, "main", ".github/ferry.yml", "version: 2\n")
	if b, _ := c.FileContent(ctx, owner, name, ".github/ferry.yml", "main"); string(b) != "version: 2\n" {
		t.Fatalf("changed file read as %q", b)
	}
	if _, err := c.FileContent(ctx, owner, name, "missing.yml", "main"); github.Classify(err) != github.KindNotFound {
		t.Fatalf("missing file: %v", err)
	}
}

func manyFiles(n int) []githubsim.File {
	var files []githubsim.File
	for i := range n {
		files = append(files, githubsim.File{Filename: fmt.Sprintf("pkg/f%04d.go", i), Status: "modified", Additions: i, Deletions: 1, Patch: "@@ -1 +1 @@\n-a\n+b"})
	}
	return files
}

func TestPullRequestFilesPaginates(t *testing.T) {
	sim, _, c := setup(t, githubsim.Config{})
	n := sim.AddPullRequest(repo, githubsim.PullRequest{Title: "big", Files: manyFiles(250)})
	files, truncated, err := c.PullRequestFiles(ctx, owner, name, n)
	if err != nil || len(files) != 250 || truncated {
		t.Fatalf("%d files, truncated=%v, %v", len(files), truncated, err)
	}
	if files[249].GetFilename() != "pkg/f0249.go" || files[3].GetAdditions() != 3 {
		t.Fatalf("wrong files: %s, %d", files[249].GetFilename(), files[3].GetAdditions())
	}
	if pages := sim.Count("pulls/list-files", 0); pages != 3 {
		t.Fatalf("%d pages fetched, want 3", sim.Count("pulls/list-files", 0))
	}
}

func TestPullRequestFilesReportsTruncation(t *testing.T) {
	sim, _, c := setup(t, githubsim.Config{})
	n := sim.AddPullRequest(repo, githubsim.PullRequest{Title: "huge", Files: manyFiles(3200)})
	files, truncated, err := c.PullRequestFiles(ctx, owner, name, n)
	if err != nil || len(files) != github.MaxPullRequestFiles || !truncated {
		t.Fatalf("%d files, truncated=%v, %v", len(files), truncated, err)
	}
}

func TestCommitsAndCompare(t *testing.T) {
	sim, _, c := setup(t, githubsim.Config{})
	commits := []githubsim.Commit{{SHA: "1111111111111111111111111111111111111111", Message: "feat: one", Author: "alice", Date: time.Now()},
		{SHA: "2222222222222222222222222222222222222222", Message: "fix: two", Author: "bob", Date: time.Now()}}
	n := sim.AddPullRequest(repo, githubsim.PullRequest{Title: "x", Head: "feature", HeadSHA: commits[1].SHA, Commits: commits, Files: manyFiles(2)})
	got, err := c.PullRequestCommits(ctx, owner, name, n)
	if err != nil || len(got) != 2 || got[1].GetCommit().GetMessage() != "fix: two" {
		t.Fatalf("commits %v, %v", got, err)
	}
	cmp, err := c.Compare(ctx, owner, name, "main", commits[1].SHA)
	if err != nil || cmp.GetTotalCommits() != 2 || len(cmp.Files) != 2 {
		t.Fatalf("compare %+v, %v", cmp, err)
	}
}

func newServer(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
