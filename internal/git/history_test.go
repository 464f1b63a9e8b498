package git

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/calibrate"
	"github.com/ferry-ci/ferry/internal/gittest"
)

func openAt(t testing.TB, dir, rev string) (*Repo, *object.Commit) {
	t.Helper()
	repo, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := repo.Resolve(rev)
	if err != nil {
		t.Fatal(err)
	}
	return repo, c
}

func byCommit(h History) map[string]calibrate.Commit {
	out := map[string]calibrate.Commit{}
	for _, c := range h.Commits {
		out[c.SHA] = c
	}
	return out
}

func shas(h History) []string {
	var out []string
	for _, c := range h.Commits {
		out = append(out, c.SHA)
	}
	return out
}

func followups(c calibrate.Commit) []string {
	var out []string
	for _, f := range c.FixFollowupBy {
		out = append(out, f.SHA)
	}
	return out
}

func TestFirstParentReverts(t *testing.T) {
	r := gittest.New(t)
	r.Author = "Ann <Ann@Example.COM>"
	a := r.Commit("add feature", map[string]string{"f.go": "package f\n"})
	r.Git("revert", "--no-edit", a)
	revert := r.Head()
	repo, head := openAt(t, r.Dir, "HEAD")
	h, err := repo.FirstParent(context.Background(), head, HistoryOptions{Max: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := byCommit(h)
	if !got[a].Reverted || !cmp.Equal(got[a].RevertedBy, []string{revert}) {
		t.Errorf("A = %+v, want reverted by %s", got[a], revert)
	}
	if !got[revert].IsRevert || got[revert].Reverted {
		t.Errorf("revert = %+v, want a revert, not reverted", got[revert])
	}
	if got[a].Author != "ann@example.com" {
		t.Errorf("author = %q, want the email lowercased", got[a].Author)
	}
}

func TestPullRequest(t *testing.T) {
	tests := []struct {
		message string
		pr      int // 0: none
		title   string
	}{
		{"Fix the parser (#123)", 123, ""},
		{"Fix the parser (#123)\n\nbody", 123, ""},
		{"Merge pull request #45 from ann/fix-parser\n\nFix the parser\n\nmore", 45, "Fix the parser"},
		{"Merge pull request #45 from ann/fix-parser\n\n\n  Fix the parser  \n", 45, "Fix the parser"},
		{"Merge pull request #45 from ann/x", 45, ""},
		{"Fix #123 in the parser", 0, ""},
		{"Merge branch 'main' into x\n\nFix", 0, ""},
		{"(#12) at the start", 0, ""},
	}
	for _, tt := range tests {
		pr, title := pullRequest(tt.message)
		got := 0
		if pr != nil {
			got = *pr
		}
		if got != tt.pr || title != tt.title {
			t.Errorf("pullRequest(%q) = %d, %q; want %d, %q", tt.message, got, title, tt.pr, tt.title)
		}
	}
}

// TestFirstParentSkipsMissingObjects: a commit whose objects are missing
// (a partial clone) is left out, not fatal; a missing parent ends the walk.
func TestFirstParentSkipsMissingObjects(t *testing.T) {
	r := gittest.New(t)
	c1 := r.Commit("add a", map[string]string{"a.txt": "a\n"})
	c2 := r.Commit("add old", map[string]string{"old.txt": "old\n"})
	c3 := r.Commit("add b", map[string]string{"b.txt": "b\n"})
	c4 := r.Commit("fix a", map[string]string{"a.txt": "A\n"})
	removeObject(t, r.Dir, r.Git("rev-parse", c2+":old.txt"))
	repo, head := openAt(t, r.Dir, "HEAD")
	h, err := repo.FirstParent(context.Background(), head, HistoryOptions{Max: 10, WithLines: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{c1, c3, c4}, shas(h)); diff != "" {
		t.Errorf("commits (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{c2}, h.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}

	removeObject(t, r.Dir, c3) // c4's parent: the walk cannot go on
	h, err = repo.FirstParent(context.Background(), head, HistoryOptions{Max: 10, WithLines: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Commits) > 0 || !cmp.Equal(h.Skipped, []string{c3, c4}) {
		t.Errorf("got commits %v, skipped %v; want none read, %v skipped", shas(h), h.Skipped, []string{c3, c4})
	}
}

// removeObject deletes a loose object, as a partial clone would lack it.
func removeObject(t *testing.T, dir, sha string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, ".git", "objects", sha[:2], sha[2:])); err != nil {
		t.Fatal(err)
	}
}

func TestFirstParentBounds(t *testing.T) {
	r := gittest.New(t)
	var all []string
	for _, f := range []string{"a", "b", "c", "d"} {
		all = append(all, r.Commit("add "+f, map[string]string{f: f + "\n"}))
	}
	repo, head := openAt(t, r.Dir, "HEAD")
	third, err := repo.Resolve(all[2])
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		o       HistoryOptions
		want    []string
		wantErr bool
	}{
		{"max", context.Background(), HistoryOptions{Max: 2}, all[2:], false},
		{"since", context.Background(), HistoryOptions{Max: 10, Since: third.Committer.When}, all[2:], false},
		{"no bound", context.Background(), HistoryOptions{Max: 10, Since: time.Time{}}, all, false},
		{"cancelled", cancelled, HistoryOptions{Max: 10}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := repo.FirstParent(tt.ctx, head, tt.o)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, shas(h)); diff != "" {
				t.Errorf("commits (-want +got):\n%s", diff)
			}
		})
	}
}
