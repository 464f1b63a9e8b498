package git

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/gittest"
)

// calc is calc.go with body as Diff's body, after a few other lines.
func calc(body string) string {
	return "package calc\n\n// Add adds.\nfunc Add(a, b int) int {\n\treturn a + b\n}\n\n" +
		"// Diff is b minus a.\nfunc Diff(a, b int) int {\n" + body + "}\n"
}

type step struct {
	msg   string
	files map[string]string
}

type fixCase struct {
	name  string
	steps []step // the last is the fix
	want  []int  // steps blamed
}

func fixCases() []fixCase {
	bug := calc("\treturn a - b\n")
	fixed := calc("\treturn b - a\n")
	withLog := calc("\tlog(a)\n\n\treturn a - b\n")
	return []fixCase{
		{"the line the fix changes", []step{
			{"add calc", map[string]string{"calc.go": bug}},
			{"add readme", map[string]string{"README.md": "calc\n"}},
			{"fix subtraction bug", map[string]string{"calc.go": fixed}},
		}, []int{0}},
		{"past a refactor that reindents", []step{
			{"add calc", map[string]string{"calc.go": bug}},
			{"refactor: reindent calc.go", map[string]string{"calc.go": strings.ReplaceAll(bug, "\t", "    ")}},
			{"fix subtraction bug", map[string]string{"calc.go": strings.ReplaceAll(fixed, "\t", "    ")}},
		}, []int{0}},
		{"past any whitespace-only change", []step{
			{"add calc", map[string]string{"calc.go": bug}},
			{"tidy calc", map[string]string{"calc.go": strings.ReplaceAll(bug, "\treturn a - b", "\t\treturn a - b")}},
			{"fix subtraction bug", map[string]string{"calc.go": fixed}},
		}, []int{0}},
		{"not the fix's reindents and blank lines", []step{
			{"add calc", map[string]string{"calc.go": bug}},
			{"log diffs", map[string]string{"calc.go": withLog}},
			{"fix subtraction bug", map[string]string{"calc.go": calc("  log(a)\n\treturn b - a\n")}},
		}, []int{0}},
		{"a fix that only reindents", []step{
			{"add calc", map[string]string{"calc.go": bug}},
			{"fix indentation bug", map[string]string{"calc.go": strings.ReplaceAll(bug, "\t", "  ")}},
		}, nil},
		{"a fix that only adds lines", []step{
			{"add calc", map[string]string{"calc.go": bug}},
			{"fix: check overflow", map[string]string{"calc.go": calc("\tcheck(a, b)\n\treturn a - b\n")}},
		}, nil},
		{"not an added file", []step{
			{"add calc", map[string]string{"calc.go": bug}},
			{"fix: add tests", map[string]string{"calc_test.go": "package calc\n"}},
		}, nil},
	}
}

func TestFixInducing(t *testing.T) {
	for _, tt := range fixCases() {
		t.Run(tt.name, func(t *testing.T) {
			r := gittest.New(t)
			var shas []string
			for _, s := range tt.steps {
				shas = append(shas, r.Commit(s.msg, s.files))
			}
			repo, fix := openAt(t, r.Dir, "HEAD")
			got, err := repo.FixInducing(context.Background(), fix)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, i := range tt.want {
				want = append(want, shas[i])
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("FixInducing (-want +got):\n%s\ncommits %v", diff, shas)
			}
		})
	}
}

func TestFirstParentFixFollowup(t *testing.T) {
	r := gittest.New(t)
	a := r.Commit("add calc", map[string]string{"calc.go": calc("\treturn a - b\n")})
	b := r.Commit("add readme", map[string]string{"README.md": "calc\n"})
	c := r.Commit("fix subtraction bug", map[string]string{"calc.go": calc("\treturn b - a\n")})
	repo, head := openAt(t, r.Dir, "HEAD")
	h, err := repo.FirstParent(context.Background(), head, HistoryOptions{Max: 100, WithLines: true})
	if err != nil {
		t.Fatal(err)
	}
	got := byCommit(h)
	if !got[a].FixFollowup || !slices.Equal(followups(got[a]), []string{c}) {
		t.Errorf("A = %+v, want fixed by C %s", got[a], c)
	}
	if got[b].FixFollowup || len(got[b].FixFollowupBy) > 0 || got[c].FixFollowup {
		t.Errorf("B = %+v, C = %+v, want neither fixed", got[b], got[c])
	}
	if f := got[c].Files; len(f) != 1 || f[0].Added != 1 || f[0].Deleted != 1 {
		t.Errorf("C's files = %+v, want calc.go +1 -1", f)
	}
}

// BenchmarkFirstParentWithLines reads this repository's own history with
// lines and weak labels (SZZ), to tell what the blames cost:
//
//	go test -run '^$' -bench FirstParentWithLines -benchtime 1x ./internal/git
func BenchmarkFirstParentWithLines(b *testing.B) {
	repo, head := openAt(b, "../..", "HEAD")
	for b.Loop() {
		h, err := repo.FirstParent(context.Background(), head, HistoryOptions{Max: 20000, WithLines: true})
		if err != nil {
			b.Fatal(err)
		}
		fixed := 0
		for _, c := range h.Commits {
			if c.FixFollowup {
				fixed++
			}
		}
		b.ReportMetric(float64(len(h.Commits)), "commits")
		b.ReportMetric(float64(fixed), "fix-followups")
	}
}
