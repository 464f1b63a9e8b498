// Package gittest makes real git repositories for tests, with the git
// binary: commits with fixed authors and dates (so their SHAs repeat), and
// a bare copy to serve (githubsim's ServeGit) as GitHub's git endpoint.
package gittest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Repo is a work tree on branch main.
type Repo struct {
	t   testing.TB
	Dir string
	n   int
	// Author is "Name <email>" of the next commits (default Ann).
	Author string
	// When, if set, dates the next commits (default: minutes apart on
	// 2026-11-01).
	When time.Time
}

// New makes an empty repository in a temporary directory.
func New(t testing.TB) *Repo {
	t.Helper()
	r := &Repo{t: t, Dir: t.TempDir(), Author: "Ann <ann@example.com>"}
	r.Git("init", "-q", "-b", "main")
	return r
}

// Git runs git in the work tree and returns its trimmed output; a failure
// fails the test.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	r.n++
	date := fmt.Sprintf("2026-11-01T%02d:%02d:00Z", 10+r.n/60%10, r.n%60)
	if !r.When.IsZero() {
		date = r.When.UTC().Format(time.RFC3339)
	}
	name, email, _ := strings.Cut(strings.TrimSuffix(r.Author, ">"), " <")
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME="+name, "GIT_AUTHOR_EMAIL="+email, "GIT_COMMITTER_NAME="+name,
		"GIT_COMMITTER_EMAIL="+email, "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date, "GIT_CONFIG_NOSYSTEM=1", "HOME="+r.Dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// Commit writes the files (path → content) and commits them with msg; it
// returns the commit's SHA.
func (r *Repo) Commit(msg string, files map[string]string) string {
	r.t.Helper()
	for path, content := range files {
		p := filepath.Join(r.Dir, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.Git("add", "-A")
	r.Git("commit", "-qm", msg)
	return r.Git("rev-parse", "HEAD")
}

// Head is the SHA of HEAD.
func (r *Repo) Head() string { return r.Git("rev-parse", "HEAD") }

// Publish makes bare (created on first use) hold every branch and tag of
// the work tree, as a push to GitHub would.
func (r *Repo) Publish(bare string) {
	r.t.Helper()
	if _, err := os.Stat(bare); err != nil {
		r.Git("clone", "-q", "--bare", r.Dir, bare)
		return
	}
	r.Git("push", "-q", "--force", bare, "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*")
}
