// Package testsel decides which tests a change can affect, from the
// repository's source alone: no build tool is run and no code executed
// (ferry must never run a pull request's code). For Go it reads go.mod,
// go.work and every package's imports and embeds, builds the reverse
// import graph and selects every package whose tests can observe the
// change; where it cannot be sure it selects more and says why.
package testsel

import (
	"go/parser"
	"go/token"
	"path"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/modfile"
)

// Tree is a repository's files at one commit.
type Tree interface {
	// Paths lists every file, slash-separated, relative to the root.
	Paths() []string
	// Read returns a file's content.
	Read(path string) ([]byte, error)
}

// Selection is what to run for a change.
type Selection struct {
	// All: run everything; Why says what made it so.
	All bool     `json:"all"`
	Why []string `json:"why,omitempty"`
	// Targets are the packages whose tests can observe the change (every
	// package when All), each with the changed files that pulled it in.
	Targets []Target `json:"targets"`
	// Total is how many targets the repository has (Go packages, and
	// Python and JavaScript test files).
	Total int `json:"total"`
	// Quarantined are the tests the repository quarantined: a workflow
	// runs them in a job that does not block (they keep running and being
	// recorded; quarantine never hides a test).
	Quarantined []Quarantined `json:"quarantined"`
}

// Target is one selected target: a Go package, a Python or JavaScript
// test file, or a name a policy mapping gives.
type Target struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind,omitempty"` // go, python, javascript, policy
	Reasons []string `json:"reasons,omitempty"`
}

// Packages are the selected Go packages' names, in order.
func (s Selection) Packages() []string {
	var out []string
	for _, t := range s.Targets {
		if t.Kind == "go" || t.Kind == "" {
			out = append(out, t.Name)
		}
	}
	return out
}

// goPackage is a directory of Go files.
type goPackage struct {
	dir, importPath string
	imports         map[string]bool // of its non-test files
	testImports     map[string]bool // of its _test.go files (both the package's and the _test package's)
	embeds          []string        // //go:embed patterns, relative to dir
}

// goRepo is what Go selection knows about a tree.
type goRepo struct {
	modules  map[string]string // root dir ("" the repository's root) → module path
	packages map[string]*goPackage
	byImport map[string]*goPackage
	aliases  map[string]string // a locally replaced module path → the path its directory's go.mod declares
	problems []string          // files that could not be read as Go: they select everything
}

// readGo reads the modules and packages of a tree.
func readGo(t Tree) *goRepo {
	g := &goRepo{modules: map[string]string{}, packages: map[string]*goPackage{}, byImport: map[string]*goPackage{}}
	paths := t.Paths()
	for _, p := range paths {
		if path.Base(p) == "go.mod" && !ignoredDir(path.Dir(p)) {
			if b, err := t.Read(p); err == nil {
				if mp := modfile.ModulePath(b); mp != "" {
					g.modules[dirOf(p)] = mp
				}
			}
		}
	}
	for _, p := range paths {
		if !strings.HasSuffix(p, ".go") || ignoredDir(path.Dir(p)) {
			continue
		}
		g.addFile(t, p)
	}
	for _, pkg := range g.packages {
		g.byImport[pkg.importPath] = pkg
	}
	return g
}

// ignoredDir is a directory the go command skips: testdata, vendor, and
// names starting with a dot or an underscore.
func ignoredDir(dir string) bool {
	if dir == "." {
		return false
	}
	for _, part := range strings.Split(dir, "/") {
		if part == "testdata" || part == "vendor" || strings.HasPrefix(part, ".") || strings.HasPrefix(part, "_") {
			return true
		}
	}
	return false
}

func dirOf(p string) string {
	d := path.Dir(p)
	if d == "." {
		return ""
	}
	return d
}

// moduleOf is the innermost module containing dir.
func (g *goRepo) moduleOf(dir string) (root, modPath string, ok bool) {
	for d := dir; ; d = dirOf(d) {
		if mp, found := g.modules[d]; found {
			return d, mp, true
		}
		if d == "" {
			return "", "", false
		}
	}
}

// addFile reads one Go file's imports and embeds into its package. Every
// file counts, whatever its build constraints: a change to a file built
// only on another OS selects conservatively.
func (g *goRepo) addFile(t Tree, p string) {
	dir := dirOf(p)
	root, modPath, ok := g.moduleOf(dir)
	if !ok {
		return // not in a module: no package the go command builds here
	}
	pkg := g.packages[dir]
	if pkg == nil {
		ip := modPath
		if rel := strings.TrimPrefix(strings.TrimPrefix(dir, root), "/"); rel != "" {
			ip += "/" + rel
		}
		pkg = &goPackage{dir: dir, importPath: ip, imports: map[string]bool{}, testImports: map[string]bool{}}
		g.packages[dir] = pkg
	}
	src, err := t.Read(p)
	if err != nil {
		g.problems = append(g.problems, p)
		return
	}
	f, err := parser.ParseFile(token.NewFileSet(), p, src, parser.ImportsOnly)
	if err != nil {
		g.problems = append(g.problems, p)
		return
	}
	into := pkg.imports
	if strings.HasSuffix(p, "_test.go") {
		into = pkg.testImports
	}
	for _, imp := range f.Imports {
		if ip, err := strconv.Unquote(imp.Path.Value); err == nil {
			into[ip] = true
		}
	}
	pkg.embeds = append(pkg.embeds, embedPatterns(src)...)
}

// embedPatterns are a file's //go:embed patterns.
func embedPatterns(src []byte) []string {
	var out []string
	for _, line := range strings.Split(string(src), "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "//go:embed ")
		if !ok {
			continue
		}
		for _, f := range fieldsQuoted(rest) {
			out = append(out, strings.TrimPrefix(f, "all:"))
		}
	}
	return out
}

// fieldsQuoted splits embed patterns: space-separated, Go-quoted when they
// hold spaces.
func fieldsQuoted(s string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		if u, err := strconv.Unquote(f); err == nil {
			f = u
		}
		out = append(out, f)
	}
	return out
}

// embeds reports whether a file (relative to the package's directory)
// matches one of its embed patterns: the pattern itself, a file under a
// directory it names, or a glob match of the file or a directory above it.
func (p *goPackage) embedsFile(rel string) bool {
	for _, pat := range p.embeds {
		for cand := rel; cand != "."; cand = path.Dir(cand) {
			if ok, _ := path.Match(pat, cand); ok {
				return true
			}
		}
	}
	return false
}

// sortedTargets turns a name → reasons map into sorted targets.
func sortedTargets(m map[string]map[string]bool) []Target {
	out := make([]Target, 0, len(m))
	for name, reasons := range m {
		t := Target{Name: name}
		for r := range reasons {
			t.Reasons = append(t.Reasons, r)
		}
		sort.Strings(t.Reasons)
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
