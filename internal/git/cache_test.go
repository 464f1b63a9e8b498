package git

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/ferry-ci/ferry/internal/change"
)

// prRemote is a real bare repository as GitHub keeps a pull request's: the
// base branch moved on after the branch point, refs/pull/1/head, and
// GitHub's test merge refs/pull/1/merge.
type prRemote struct {
	bare                    string
	fork, baseTip, head     string
	merge, nextHead         string // nextHead: a later push to the pull request, not yet merged
	baseOnly, pullRequested []string
}

func newPRRemote(t *testing.T) prRemote {
	t.Helper()
	work := newWork(t)
	var r prRemote
	r.fork = commitFiles(t, work, "init", map[string]string{"README.md": "hi\n", "app/main.go": "package main\n"})
	gitCmd(t, work, "checkout", "-qb", "feature")
	r.head = commitFiles(t, work, "feature", map[string]string{"app/main.go": "package main\n\nfunc main() {}\n", "db/0001.sql": "DROP TABLE a;\n"})
	r.pullRequested = []string{"app/main.go", "db/0001.sql"}
	r.nextHead = commitFiles(t, work, "more", map[string]string{"db/0002.sql": "DROP TABLE b;\n"})
	gitCmd(t, work, "checkout", "-q", "main")
	r.baseTip = commitFiles(t, work, "base moves on", map[string]string{"docs/base-only.md": "base\n"})
	r.baseOnly = []string{"docs/base-only.md"}
	gitCmd(t, work, "merge", "-q", "--no-ff", "-m", "Merge", r.head)
	r.merge = gitCmd(t, work, "rev-parse", "HEAD")
	gitCmd(t, work, "reset", "-q", "--hard", r.baseTip)
	gitCmd(t, work, "update-ref", "refs/pull/1/head", r.head)
	gitCmd(t, work, "update-ref", "refs/pull/1/merge", r.merge)
	r.bare = filepath.Join(t.TempDir(), "api.git")
	gitCmd(t, work, "clone", "-q", "--mirror", work, r.bare)
	return r
}

func paths(ch change.Change) []string {
	var out []string
	for _, f := range ch.Files {
		out = append(out, f.Path)
	}
	return out
}

func TestCachePullRequestChange(t *testing.T) {
	r := newPRRemote(t)
	c := &Cache{Dir: t.TempDir()}
	pr := PullRequest{URL: r.bare, Number: 1, BaseRef: "main", HeadSHA: r.head}
	ch, err := c.PullRequestChange(context.Background(), "7", pr, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	// Exactly what the pull request changes, from the test merge: not the
	// base's own change since the branch point.
	if !slices.Equal(paths(ch), r.pullRequested) || ch.Truncated || ch.Head != r.head || ch.Base != r.baseTip {
		t.Fatalf("read %v (truncated %v) %s..%s; want %v from %s..%s", paths(ch), ch.Truncated, ch.Base, ch.Head, r.pullRequested, r.baseTip, r.head)
	}
	if len(ch.Commits) != 1 || ch.Commits[0].SHA != r.head {
		t.Errorf("commits %+v: want the head (the history is not fetched)", ch.Commits)
	}
	// Shallow: the branch point was never fetched.
	g, err := openBare(filepath.Join(c.Dir, "7"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if _, err := g.r.CommitObject(plumbing.NewHash(r.fork)); err == nil {
		t.Error("the history was fetched: the branch point is in the cache")
	}
}

func TestCachePullRequestWithoutTestMerge(t *testing.T) {
	r := newPRRemote(t)
	c := &Cache{Dir: t.TempDir()}
	gitCmd(t, r.bare, "update-ref", "-d", "refs/pull/1/merge") // a conflict: GitHub makes none
	pr := PullRequest{URL: r.bare, Number: 1, BaseRef: "main", HeadSHA: r.head}
	ch, err := c.PullRequestChange(context.Background(), "7", pr, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	// Base tip to head: more than the pull request changes, marked partial.
	want := append(slices.Clone(r.pullRequested), r.baseOnly...)
	slices.Sort(want)
	if !slices.Equal(paths(ch), want) || !ch.Truncated || ch.Head != r.head {
		t.Fatalf("read %v (truncated %v); want %v, truncated", paths(ch), ch.Truncated, want)
	}

	// A later push the test merge has not caught up with: the same.
	gitCmd(t, r.bare, "update-ref", "refs/pull/1/merge", r.merge)
	gitCmd(t, r.bare, "update-ref", "refs/pull/1/head", r.nextHead)
	ch, err = c.PullRequestChange(context.Background(), "7", PullRequest{URL: r.bare, Number: 1, BaseRef: "main", HeadSHA: r.nextHead}, Limits{})
	if err != nil || !ch.Truncated || ch.Head != r.nextHead || !slices.Contains(paths(ch), "db/0002.sql") {
		t.Fatalf("stale test merge: %v, %v (truncated %v)", err, paths(ch), ch.Truncated)
	}

	// An event for the earlier head still reads it exactly (its test
	// merge is there) …
	ch, err = c.PullRequestChange(context.Background(), "7", pr, Limits{})
	if err != nil || ch.Truncated || !slices.Equal(paths(ch), r.pullRequested) {
		t.Fatalf("earlier head: %v, %v (truncated %v)", err, paths(ch), ch.Truncated)
	}
	// … but without one, it is no longer the pull request's: an error
	// (the newer head's own event reads that).
	gitCmd(t, r.bare, "update-ref", "-d", "refs/pull/1/merge")
	_, err = c.PullRequestChange(context.Background(), "7", pr, Limits{})
	if err == nil || !strings.Contains(err.Error(), "head is") {
		t.Fatalf("head moved: err = %v", err)
	}
}

func TestCacheFetchTooLarge(t *testing.T) {
	r := newPRRemote(t)
	c := &Cache{Dir: t.TempDir(), MaxBytes: 200}
	_, err := c.PullRequestChange(context.Background(), "7", PullRequest{URL: r.bare, Number: 1, BaseRef: "main", HeadSHA: r.head}, Limits{})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if _, err := os.Stat(filepath.Join(c.Dir, "7")); !os.IsNotExist(err) {
		t.Errorf("a failed fetch left its repository behind: %v", err)
	}
}

func TestCacheKey(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	for _, key := range []string{"", "..", "../x", "a/b", `a\b`} {
		if _, err := c.PullRequestChange(context.Background(), key, PullRequest{}, Limits{}); err == nil {
			t.Errorf("key %q accepted", key)
		}
	}
}

// TestCachePrune: past the quota the least recently used repositories go,
// never one being read.
func TestCachePrune(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, key := range []string{"1", "2", "3", "4"} { // 1 is the least recently used
		p := filepath.Join(dir, key, "objects", "pack")
		os.MkdirAll(p, 0o700)
		os.WriteFile(filepath.Join(p, "pack-x.pack"), make([]byte, 1000), 0o600)
		at := t0.Add(time.Duration(i) * time.Hour)
		os.Chtimes(filepath.Join(dir, key), at, at)
	}
	c := &Cache{Dir: dir, MaxBytes: 2500}
	c.enter("1") // being read (or waited for)
	c.prune()
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if !slices.Equal(left, []string{"1", "4"}) {
		t.Fatalf("left %v, want 1 (busy) and 4 (the most recent)", left)
	}
	c.leave("1")
	c.MaxBytes = 1500
	c.prune()
	if _, err := os.Stat(filepath.Join(dir, "1")); !os.IsNotExist(err) {
		t.Fatalf("1 is no longer busy and the least recently used over the quota, yet kept: %v", err)
	}
}
