package git

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ferry-ci/ferry/internal/change"
)

// gitCmd runs the git CLI in dir (a real repository, as everywhere here).
func gitCmd(t testing.TB, dir string, args ...string) string {
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

// commitFiles writes files (path → content; "" removes) into a work tree
// and commits them.
func commitFiles(t testing.TB, work, msg string, files map[string]string) string {
	t.Helper()
	for name, content := range files { // removals first: a file may replace a directory
		if p := filepath.Join(work, name); content == "" {
			if err := os.RemoveAll(p); err != nil {
				t.Fatal(err)
			}
			os.Remove(filepath.Dir(p)) // when empty
		}
	}
	for name, content := range files {
		p := filepath.Join(work, name)
		if content == "" {
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitCmd(t, work, "add", "-A")
	gitCmd(t, work, "commit", "-qm", msg)
	return gitCmd(t, work, "rev-parse", "HEAD")
}

func newWork(t testing.TB) string {
	t.Helper()
	work := t.TempDir()
	gitCmd(t, work, "init", "-q", "-b", "main")
	return work
}

func readBetween(t *testing.T, ctx context.Context, work, base, head string, lim Limits) (change.Change, error) {
	t.Helper()
	g, err := Open(work)
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.Resolve(base)
	if err != nil {
		t.Fatal(err)
	}
	h, err := g.Resolve(head)
	if err != nil {
		t.Fatal(err)
	}
	return g.ReadChange(ctx, b, h, lim)
}

func TestReadChange(t *testing.T) {
	work := newWork(t)
	base := commitFiles(t, work, "base", map[string]string{
		"README.md":      "hello\n",
		"old/name.go":    "package old\n\nfunc A() {}\n",
		"gone.txt":       "bye\n",
		"edit.txt":       "one\ntwo\nthree\n",
		"dir-to-file/x":  "x\n",
		"logo.png":       "\x89PNG\x00\x01",
		"docs/guide.md":  "guide\n",
		"same/keep.txt":  "kept\n",
		"same/other.txt": "other\n",
	})
	head := commitFiles(t, work, "head", map[string]string{
		"old/name.go":   "",
		"new/name.go":   "package old\n\nfunc A() {}\n",
		"gone.txt":      "",
		"edit.txt":      "one\n2\nthree\nfour\n",
		"dir-to-file/x": "",
		"dir-to-file":   "now a file\n",
		"logo.png":      "\x89PNG\x00\x02",
		"added/a.sql":   "DROP TABLE accounts;\n",
	})
	ch, err := readBetween(t, context.Background(), work, base, head, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []change.File{
		{Path: "added/a.sql", Status: change.Added, Additions: 1, Size: 21, Patch: "@@ -0,0 +1 @@\n+DROP TABLE accounts;\n"},
		{Path: "dir-to-file", Status: change.Added, Additions: 1, Size: 11, Patch: "@@ -0,0 +1 @@\n+now a file\n"},
		{Path: "dir-to-file/x", Status: change.Removed, Deletions: 1, Size: 2, Patch: "@@ -1 +0,0 @@\n-x\n"},
		{Path: "edit.txt", Status: change.Modified, Additions: 2, Deletions: 1, Size: 17,
			Patch: "@@ -1,3 +1,4 @@\n one\n-two\n+2\n three\n+four\n"},
		{Path: "gone.txt", Status: change.Removed, Deletions: 1, Size: 4, Patch: "@@ -1 +0,0 @@\n-bye\n"},
		{Path: "logo.png", Status: change.Modified, Size: 6},
		{Path: "new/name.go", PreviousPath: "old/name.go", Status: change.Renamed, Size: 25},
	}
	if diff := cmp.Diff(want, ch.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if ch.Truncated || ch.Base != base || ch.Head != head || len(ch.Commits) != 1 || ch.Commits[0].Subject != "head" {
		t.Errorf("change: truncated %v, %s..%s, commits %+v", ch.Truncated, ch.Base, ch.Head, ch.Commits)
	}
	// The same files git itself names (exact renames only).
	gitNames := strings.Split(gitCmd(t, work, "diff", "--name-only", "--find-renames=100%", base, head), "\n")
	var names []string
	for _, f := range ch.Files {
		names = append(names, f.Path)
	}
	if diff := cmp.Diff(gitNames, names, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("paths (-git +read):\n%s", diff)
	}
}

func TestReadChangeLimits(t *testing.T) {
	work := newWork(t)
	base := commitFiles(t, work, "base", map[string]string{"README.md": "hi\n"})
	files := map[string]string{
		"a/big.sql":   strings.Repeat("-- padding line\n", 200), // 3,200 bytes
		"b/small.sql": "DROP TABLE accounts;\n",                 // 21
		"c/mid.txt":   strings.Repeat("x\n", 100),               // 200
	}
	head := commitFiles(t, work, "head", files)
	patched := func(ch change.Change) []string {
		var out []string
		for _, f := range ch.Files {
			if f.Patch != "" {
				out = append(out, f.Path)
			}
		}
		return out
	}
	tests := []struct {
		name      string
		lim       Limits
		files     int
		patched   []string
		truncated bool
	}{
		{"no limits", Limits{}, 3, []string{"a/big.sql", "b/small.sql", "c/mid.txt"}, false},
		{"at the limits", Limits{MaxFiles: 3, MaxFileBytes: 3200, MaxPatchBytes: 3421}, 3, []string{"a/big.sql", "b/small.sql", "c/mid.txt"}, false},
		{"files", Limits{MaxFiles: 2}, 2, []string{"a/big.sql", "b/small.sql"}, true},
		{"one file too big", Limits{MaxFileBytes: 1000}, 3, []string{"b/small.sql", "c/mid.txt"}, true},
		// smallest first: the big one does not push the small ones out
		{"bytes", Limits{MaxPatchBytes: 300}, 3, []string{"b/small.sql", "c/mid.txt"}, true},
		{"bytes for one", Limits{MaxPatchBytes: 100}, 3, []string{"b/small.sql"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := readBetween(t, context.Background(), work, base, head, tt.lim)
			if err != nil {
				t.Fatal(err)
			}
			if len(ch.Files) != tt.files || ch.Truncated != tt.truncated {
				t.Errorf("%d files, truncated %v; want %d, %v", len(ch.Files), ch.Truncated, tt.files, tt.truncated)
			}
			if diff := cmp.Diff(tt.patched, patched(ch)); diff != "" {
				t.Errorf("files with a patch (-want +got):\n%s", diff)
			}
			for _, f := range ch.Files {
				if f.Size != int64(len(files[f.Path])) {
					t.Errorf("%s: size %d, want %d (known even without a patch)", f.Path, f.Size, len(files[f.Path]))
				}
			}
		})
	}
}

// cancelAfter is a context cancelled once Err has been asked n times: a
// job cancelled at each point of a read in turn.
type cancelAfter struct {
	context.Context
	n int
}

func (c *cancelAfter) Err() error {
	if c.n--; c.n < 0 {
		return context.Canceled
	}
	return nil
}

// TestReadChangeCancelled: wherever the job is cancelled — walking the
// trees, sizing the files, reading them — the read stops with the
// cancellation, and reads nothing more.
func TestReadChangeCancelled(t *testing.T) {
	work := newWork(t)
	base := commitFiles(t, work, "base", map[string]string{"README.md": "hi\n"})
	head := commitFiles(t, work, "head", map[string]string{"a/1.txt": "a\n", "b/2.txt": "b\n", "c/3.txt": "c\n"})
	asked := &cancelAfter{Context: context.Background(), n: 1 << 30}
	if _, err := readBetween(t, asked, work, base, head, Limits{}); err != nil {
		t.Fatal(err)
	}
	checks := 1<<30 - asked.n
	for n := range checks {
		if _, err := readBetween(t, &cancelAfter{Context: context.Background(), n: n}, work, base, head, Limits{}); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled at check %d of %d: err = %v, want context.Canceled", n, checks, err)
		}
	}
	if checks < 10 { // 4 trees walked, 3 files sized, 3 read
		t.Errorf("the read asks whether it is cancelled %d times", checks)
	}
}

// numbered is lines 1 to n, some replaced.
func numbered(n int, replace map[int]string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if r, ok := replace[i]; ok {
			b.WriteString(r + "\n")
		} else {
			fmt.Fprintf(&b, "%d\n", i)
		}
	}
	return b.String()
}

var funcContext = regexp.MustCompile(`(?m)^(@@ [^@]+ @@).*$`)

// TestPatchesAsGitWritesThem: hunks, their ranges, merged neighbours and
// a missing final newline come out as git's own diff writes them.
func TestPatchesAsGitWritesThem(t *testing.T) {
	var before, after []string
	for i := 1; i <= 40; i++ {
		before = append(before, fmt.Sprintf("line %d", i))
	}
	after = append(after, before...)
	after[1] = "changed 2"                            // a hunk of its own
	after[12], after[17] = "changed 13", "changed 18" // close enough to share one
	after = slices.Insert(after, 30, "inserted")      // an insertion
	after = after[:len(after)-1]                      // the last line goes
	cases := map[string][2]string{
		"many.txt":      {strings.Join(before, "\n") + "\n", strings.Join(after, "\n")}, // and loses its newline
		"first.txt":     {"a\nb\n", "z\na\nb\n"},
		"noeol.txt":     {"a\nb", "a\nb\n"},
		"emptied.txt":   {"a\n", "\n"},
		"new-noeol.txt": {"", "only"},
		"gap6.txt":      {numbered(30, nil), numbered(30, map[int]string{5: "five", 12: "twelve"})},   // one hunk
		"gap7.txt":      {numbered(30, nil), numbered(30, map[int]string{5: "five", 13: "thirteen"})}, // two
	}
	work := newWork(t)
	files := map[string]string{"keep": "k\n"}
	for name, c := range cases {
		files[name] = c[0]
	}
	for name, c := range cases {
		if c[0] == "" {
			delete(files, name)
		}
	}
	base := commitFiles(t, work, "base", files)
	files = map[string]string{}
	for name, c := range cases {
		files[name] = c[1]
	}
	head := commitFiles(t, work, "head", files)
	ch, err := readBetween(t, context.Background(), work, base, head, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ch.Files {
		out := gitCmd(t, work, "diff", "--no-color", "-U3", base, head, "--", f.Path) + "\n"
		// git names the enclosing "function" after a hunk's range; the
		// read does not.
		want := funcContext.ReplaceAllString(out[strings.Index(out, "\n@@")+1:], "$1")
		if diff := cmp.Diff(want, f.Patch); diff != "" {
			t.Errorf("%s (-git +read):\n%s", f.Path, diff)
		}
	}
	if len(ch.Files) != len(cases) {
		t.Errorf("%d files, want %d", len(ch.Files), len(cases))
	}
}
