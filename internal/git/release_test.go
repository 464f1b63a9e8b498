package git

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// releaseHistory makes a history with merges, a merge from main into a
// branch, a rename, a removal, annotated and lightweight tags, and a tag
// of a tree; it returns the work tree.
func releaseHistory(t *testing.T) string {
	w := newWork(t)
	commitFiles(t, w, "initial", map[string]string{"README.md": "hi\n", "a/old.go": "package a\n"})
	gitCmd(t, w, "tag", "-a", "-m", "one", "v1.0.0")
	commitFiles(t, w, "fix: one (#1)", map[string]string{"a/one.go": "package a\n"})
	gitCmd(t, w, "checkout", "-q", "-b", "feature")
	commitFiles(t, w, "side one", map[string]string{"b/side.go": "package b\n"})
	gitCmd(t, w, "checkout", "-q", "main")
	commitFiles(t, w, "fix: two (#2)", map[string]string{"a/two.go": "package a\n", "README.md": ""})
	gitCmd(t, w, "tag", "v1.0.1")
	gitCmd(t, w, "checkout", "-q", "feature")
	gitCmd(t, w, "merge", "-q", "--no-ff", "-m", "Merge branch 'main' into feature", "main")
	gitCmd(t, w, "mv", "a/old.go", "b/new.go")
	gitCmd(t, w, "commit", "-qm", "side two: rename")
	gitCmd(t, w, "checkout", "-q", "main")
	gitCmd(t, w, "merge", "-q", "--no-ff", "-m", "Merge pull request #3 from acme/feature\n\nfeat: b", "feature")
	gitCmd(t, w, "tag", "tree-tag", "HEAD^{tree}")
	gitCmd(t, w, "tag", "-a", "-m", "not a release", "nightly")
	commitFiles(t, w, "docs: three (#4)", map[string]string{"docs/x.md": "x\n"})
	return w
}

func TestReleaseRange(t *testing.T) {
	w := releaseHistory(t)
	g, err := Open(w)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, base := range []string{"v1.0.0", "v1.0.1", ""} {
		head, _ := g.Resolve("HEAD")
		var rev = "HEAD"
		r := Range{}
		if base == "" {
			r, err = g.ReleaseRange(ctx, nil, head)
		} else {
			b, _ := g.Resolve(base)
			r, err = g.ReleaseRange(ctx, b, head)
			rev = base + "..HEAD"
		}
		if err != nil {
			t.Fatal(err)
		}
		// The same commits as git rev-list, parents before children.
		want := strings.Fields(gitCmd(t, w, "rev-list", rev))
		var got []string
		pos := map[string]int{}
		for i, c := range r.Commits {
			got = append(got, c.SHA)
			pos[c.SHA] = i
		}
		if diff := cmp.Diff(sorted(want), sorted(got)); diff != "" {
			t.Errorf("%s: commits (-git +ferry):\n%s", rev, diff)
		}
		for _, c := range r.Commits {
			for _, p := range c.Parents {
				if i, ok := pos[p]; ok && i > pos[c.SHA] {
					t.Errorf("%s: %s listed before its parent %s", rev, c.SHA[:8], p[:8])
				}
			}
			// The paths git diff-tree lists against the first parent.
			args := []string{"diff-tree", "--no-commit-id", "--name-only", "-r", "--no-renames", c.SHA}
			if len(c.Parents) == 0 {
				args = append(args[:len(args)-1], "--root", c.SHA)
			} else {
				args = append(args[:len(args)-1], c.Parents[0], c.SHA)
			}
			if diff := cmp.Diff(sorted(strings.Fields(gitCmd(t, w, args...))), sorted(c.Files)); diff != "" {
				t.Errorf("%s: paths of %s (-git +ferry):\n%s", rev, c.Message, diff)
			}
			if c.Author.Name != "t" || c.Author.Email != "t@example.com" || c.Message == "" {
				t.Errorf("%s: author %+v, message %q", c.SHA, c.Author, c.Message)
			}
		}
		if base == "v1.0.1" && (r.Commits[len(r.Commits)-1].Message != "docs: three (#4)\n" || !slices.Equal(r.Earlier, []string{"t", "t@example.com"})) {
			t.Errorf("last %q, earlier %v", r.Commits[len(r.Commits)-1].Message, r.Earlier)
		}
		if base == "" && r.Earlier != nil {
			t.Errorf("earlier %v without a base", r.Earlier)
		}
	}
}

func TestReleaseRangeEmpty(t *testing.T) {
	g, err := OpenHistory(releaseHistory(t))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	head, _ := g.Resolve("HEAD")
	r, err := g.ReleaseRange(context.Background(), head, head)
	if err != nil || len(r.Commits) != 0 || len(r.Earlier) != 2 {
		t.Errorf("HEAD..HEAD: %d commits, earlier %v, %v", len(r.Commits), r.Earlier, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.ReleaseRange(ctx, nil, head); err == nil {
		t.Error("a cancelled read: no error")
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func TestTagsAndNearest(t *testing.T) {
	w := releaseHistory(t)
	g, err := Open(w)
	if err != nil {
		t.Fatal(err)
	}
	tags, err := g.Tags()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tg := range tags {
		names = append(names, tg.Name)
		if want := gitCmd(t, w, "rev-parse", tg.Name+"^{commit}"); tg.SHA != want {
			t.Errorf("%s names %s, git says %s", tg.Name, tg.SHA, want)
		}
	}
	if diff := cmp.Diff([]string{"nightly", "v1.0.0", "v1.0.1"}, names); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	head, _ := g.Resolve("HEAD")
	release := func(name string) bool { return strings.HasPrefix(name, "v") }
	near, err := g.NearestTags(context.Background(), head, release)
	if err != nil || len(near) != 1 || near[0].Name != "v1.0.1" {
		t.Errorf("nearest from HEAD: %v, %v", near, err)
	}
	side, _ := g.Resolve("feature~2") // the branch before it merged main
	if near, _ = g.NearestTags(context.Background(), side, release); len(near) != 1 || near[0].Name != "v1.0.0" {
		t.Errorf("nearest from the branch: %v", near)
	}
	if near, _ = g.NearestTags(context.Background(), head, func(string) bool { return false }); near != nil {
		t.Errorf("nothing accepted: %v", near)
	}
}
