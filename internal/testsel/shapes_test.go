package testsel_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/gittest"
)

// pkgFile is a Go file of package name importing imports.
func pkgFile(name string, imports ...string) string {
	var b strings.Builder
	b.WriteString("package " + name + "\n\n")
	for _, imp := range imports {
		b.WriteString("import _ \"" + imp + "\"\n")
	}
	return b.String()
}

const testBody = "\nfunc TestX(t *testing.T) {}\n"

func testFile(name string, imports ...string) string {
	return pkgFile(name, imports...) + "import \"testing\"\n" + testBody
}

// shapeTree is a module tree every shape starts from: a diamond (a → b, c
// → d), an internal package used by a command, a helper only tests import,
// embedded templates, testdata, a file built only on Windows, and a
// second module the first replaces locally.
func shapeTree() map[string]string {
	return map[string]string{
		"go.mod":                    "module example.com/m\n\ngo 1.22\n\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => ./lib\n",
		"a/a.go":                    pkgFile("a", "example.com/m/b", "example.com/m/c"),
		"a/a_test.go":               testFile("a"),
		"b/b.go":                    pkgFile("b", "example.com/m/d"),
		"b/b_test.go":               testFile("b"),
		"c/c.go":                    pkgFile("c", "example.com/m/d"),
		"c/c_test.go":               testFile("c"),
		"d/d.go":                    pkgFile("d"),
		"d/d_test.go":               testFile("d"),
		"d/d_windows.go":            "//go:build windows\n\npackage d\n",
		"e/e.go":                    pkgFile("e"),
		"e/e_test.go":               testFile("e_test", "example.com/m/e", "example.com/m/testhelp"),
		"e/testdata/golden.txt":     "x\n",
		"testhelp/help.go":          pkgFile("testhelp"),
		"internal/x/x.go":           pkgFile("x", "example.com/lib/y"),
		"internal/x/x_test.go":      testFile("x"),
		"cmd/app/main.go":           pkgFile("main", "example.com/m/internal/x"),
		"cmd/app/main_test.go":      testFile("main"),
		"tmpl/tmpl.go":              "package tmpl\n\nimport \"embed\"\n\n//go:embed *.tmpl pages\nvar FS embed.FS\n",
		"tmpl/tmpl_test.go":         testFile("tmpl"),
		"tmpl/page.tmpl":            "hello\n",
		"tmpl/pages/index.html":     "<p>hi</p>\n",
		"web/web.go":                pkgFile("web", "example.com/m/tmpl"),
		"web/web_test.go":           testFile("web"),
		"Makefile":                  "test:\n\tgo test ./...\n",
		"lib/go.mod":                "module example.com/lib\n\ngo 1.22\n",
		"lib/y/y.go":                pkgFile("y"),
		"lib/y/y_test.go":           testFile("y"),
		"docs/notes/readme-only.md": "notes\n",
		"d/impl.c":                  "int twice(int x) { return 2 * x; }\n",
	}
}

const m = "example.com/m/"

// TestSelectGo_Shapes: on a built module tree, each change selects
// exactly the packages whose tests can observe it — and never fewer than
// the go command's own dependency graph says (go list -test, run by the
// test on the same commit).
func TestSelectGo_Shapes(t *testing.T) {
	tests := []struct {
		name    string
		change  map[string]string
		want    []string // nil with all
		all     bool
		whyPart string
	}{
		{name: "diamond bottom", change: map[string]string{"d/d.go": pkgFile("d") + "// changed\n"},
			want: []string{m + "a", m + "b", m + "c", m + "d"}},
		{name: "diamond side", change: map[string]string{"b/b.go": pkgFile("b", "example.com/m/d") + "// changed\n"},
			want: []string{m + "a", m + "b"}},
		{name: "a test file only", change: map[string]string{"b/b_test.go": testFile("b") + "// changed\n"},
			want: []string{m + "b"}},
		{name: "a helper only tests import", change: map[string]string{"testhelp/help.go": pkgFile("testhelp") + "// changed\n"},
			want: []string{m + "e", m + "testhelp"}},
		{name: "testdata", change: map[string]string{"e/testdata/golden.txt": "y\n"}, want: []string{m + "e"}},
		{name: "embedded template", change: map[string]string{"tmpl/page.tmpl": "bye\n"}, want: []string{m + "tmpl", m + "web"}},
		{name: "embedded directory", change: map[string]string{"tmpl/pages/index.html": "<p>bye</p>\n"}, want: []string{m + "tmpl", m + "web"}},
		{name: "internal package", change: map[string]string{"internal/x/x.go": pkgFile("x", "example.com/lib/y") + "// changed\n"},
			want: []string{m + "cmd/app", m + "internal/x"}},
		{name: "a locally replaced module", change: map[string]string{"lib/y/y.go": pkgFile("y") + "// changed\n"},
			want: []string{"example.com/lib/y", m + "cmd/app", m + "internal/x"}},
		{name: "a file built only on windows", change: map[string]string{"d/d_windows.go": "//go:build windows\n\npackage d\n\n// changed\n"},
			want: []string{m + "a", m + "b", m + "c", m + "d"}},
		{name: "a C file compiled into a package", change: map[string]string{"d/impl.c": "int twice(int x) { return x + x; }\n"},
			want: []string{m + "a", m + "b", m + "c", m + "d"}},
		{name: "a new package", change: map[string]string{"f/f.go": pkgFile("f", "example.com/m/d"), "f/f_test.go": testFile("f")},
			want: []string{m + "f"}},
		{name: "go.mod", change: map[string]string{"go.mod": shapeTree()["go.mod"] + "// changed\n"}, all: true, whyPart: "go.mod changes how every package builds"},
		{name: "outside any package", change: map[string]string{"Makefile": "test:\n\tgo test -race ./...\n"}, all: true, whyPart: "Makefile is outside any package"},
		{name: "docs outside any package", change: map[string]string{"docs/notes/readme-only.md": "more\n"}, all: true, whyPart: "outside any package"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := gittest.New(t)
			base := r.Commit("base", shapeTree())
			head := r.Commit("change", tt.change)
			missed, _, sel := compare(t, r.Dir, base, head, "./...", "example.com/lib/...")
			if len(missed) > 0 {
				t.Errorf("missed %v (the go command's graph reaches them)", missed)
			}
			if sel.All != tt.all || tt.all && !strings.Contains(strings.Join(sel.Why, "; "), tt.whyPart) {
				t.Fatalf("all %t (%v), want %t with %q", sel.All, sel.Why, tt.all, tt.whyPart)
			}
			if !tt.all && !slices.Equal(sel.Packages(), tt.want) {
				t.Fatalf("selected %v, want %v", sel.Packages(), tt.want)
			}
			for _, target := range sel.Targets {
				if !tt.all && len(target.Reasons) == 0 {
					t.Errorf("%s selected without a reason", target.Name)
				}
			}
		})
	}
}

// TestSelectGo_Workspace: a go.work with two modules, the second importing
// the first: a change in the first selects the second's importer too.
func TestSelectGo_Workspace(t *testing.T) {
	r := gittest.New(t)
	base := r.Commit("base", map[string]string{
		"go.work":         "go 1.22\n\nuse (\n\t./one\n\t./two\n)\n",
		"one/go.mod":      "module example.com/one\n\ngo 1.22\n",
		"one/p/p.go":      pkgFile("p"),
		"one/p/p_test.go": testFile("p"),
		"two/go.mod":      "module example.com/two\n\ngo 1.22\n",
		"two/q/q.go":      pkgFile("q", "example.com/one/p"),
		"two/q/q_test.go": testFile("q"),
		"two/r/r.go":      pkgFile("r"),
		"two/r/r_test.go": testFile("r"),
	})
	head := r.Commit("change", map[string]string{"one/p/p.go": pkgFile("p") + "// changed\n"})
	missed, fraction, sel := compare(t, r.Dir, base, head, "example.com/one/...", "example.com/two/...")
	if len(missed) > 0 || sel.All {
		t.Fatalf("missed %v, all %t", missed, sel.All)
	}
	if want := []string{"example.com/one/p", "example.com/two/q"}; !slices.Equal(sel.Packages(), want) || fraction != 2.0/3 {
		t.Fatalf("selected %v (%.2f), want %v", sel.Packages(), fraction, want)
	}
}

// TestAttack_SelectGoHostileTree: sources that do not parse, absurd embed
// patterns and a go.mod that is not one select everything, said so —
// never fewer, never a crash.
func TestAttack_SelectGoHostileTree(t *testing.T) {
	r := gittest.New(t)
	base := r.Commit("base", shapeTree())
	head := r.Commit("change", map[string]string{
		"d/d.go":      "package d\n\nimport (\n\t\"unterminated\n",
		"tmpl/bad.go": "package tmpl\n\n//go:embed [ ../../../etc/passwd \"\\x\"\n",
	})
	_, _, sel := compare(t, r.Dir, base, head, "./...")
	if !sel.All || !strings.Contains(strings.Join(sel.Why, "; "), "d/d.go could not be read as Go") {
		t.Fatalf("all %t, why %v", sel.All, sel.Why)
	}
}
