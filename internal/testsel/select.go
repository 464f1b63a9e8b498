package testsel

import (
	"fmt"
	"path"
	"strings"

	"golang.org/x/mod/modfile"
)

// buildFiles change how every package builds.
var buildFiles = map[string]bool{"go.mod": true, "go.sum": true, "go.work": true, "go.work.sum": true}

// seeds are what a change touches directly: packages whose code changed
// (their importers see it) and packages whose tests alone did.
type seeds struct {
	code, tests map[string]map[string]bool // import path → changed files
	why         []string                   // reasons to run everything
}

func (s *seeds) add(into map[string]map[string]bool, importPath, file string) {
	if into[importPath] == nil {
		into[importPath] = map[string]bool{}
	}
	into[importPath][file] = true
}

// SelectGo selects the Go packages whose tests can observe a change: the
// tree is the repository at the change's head, changed the paths it adds,
// modifies or deletes (a rename both). A package is selected when its own
// files, embedded files or testdata changed, or when its code or its tests
// import — transitively, through non-test imports — a package whose code
// changed. Changes to go.mod, go.sum, go.work, vendored code, files outside
// any package, or Go files ferry cannot parse select everything, said so.
func SelectGo(head Tree, changed []string) Selection { return selectGo(head, changed, nil) }

// selectGo is SelectGo where the files in others are accounted for by
// another language or a mapping: they still reach the Go packages that
// embed them or keep them as testdata, but are not "outside any package".
func selectGo(head Tree, changed []string, others map[string]bool) Selection {
	g := readGo(head)
	g.aliasReplaced(head)
	s := g.seed(changed, others)
	for _, p := range g.problems {
		s.why = append(s.why, p+" could not be read as Go")
	}
	if len(s.why) > 0 {
		all := map[string]map[string]bool{}
		for _, pkg := range g.packages {
			all[pkg.importPath] = map[string]bool{}
		}
		return Selection{All: true, Why: s.why, Targets: sortedTargets(all), Total: len(g.packages)}
	}
	return Selection{Targets: sortedTargets(g.affected(s)), Total: len(g.packages)}
}

// seed sorts the changed files.
func (g *goRepo) seed(changed []string, others map[string]bool) seeds {
	s := seeds{code: map[string]map[string]bool{}, tests: map[string]map[string]bool{}}
	for _, f := range changed {
		dir := dirOf(f)
		switch {
		case buildFiles[path.Base(f)]:
			s.why = append(s.why, f+" changes how every package builds")
		case strings.HasPrefix(f, "vendor/") || strings.Contains(f, "/vendor/"):
			s.why = append(s.why, f+" is vendored code")
		case strings.HasSuffix(f, ".go") && !ignoredDir(dir):
			ip, ok := g.importPathFor(dir)
			switch {
			case !ok:
				s.why = append(s.why, f+" is outside any module")
			case strings.HasSuffix(f, "_test.go"):
				s.add(s.tests, ip, f)
			default:
				s.add(s.code, ip, f)
			}
		default:
			g.seedOther(&s, f, others[f])
		}
	}
	return s
}

// compiled are the other files the go command compiles into a package
// (cgo, assembly, SWIG, system objects).
var compiled = map[string]bool{".c": true, ".h": true, ".s": true, ".S": true, ".sx": true, ".cc": true, ".cpp": true, ".cxx": true,
	".hh": true, ".hpp": true, ".hxx": true, ".m": true, ".f": true, ".F": true, ".for": true, ".f90": true, ".swig": true,
	".swigcxx": true, ".syso": true}

// seedOther places a file that is not Go source: compiled into a package
// or embedded by any package above it (their code), else in the nearest
// package's testdata or beside its files (its tests may read it), else —
// unless another language accounts for it — outside any package
// (everything).
func (g *goRepo) seedOther(s *seeds, f string, accounted bool) {
	placed := false
	var nearest *goPackage
	for d := dirOf(f); ; d = dirOf(d) {
		if pkg := g.packages[d]; pkg != nil {
			rel := strings.TrimPrefix(strings.TrimPrefix(f, d), "/")
			switch {
			case d == dirOf(f) && compiled[path.Ext(f)], pkg.embedsFile(rel):
				s.add(s.code, pkg.importPath, f)
				placed = true
			case nearest == nil && (strings.HasPrefix(rel, "testdata/") || d == dirOf(f)):
				nearest = pkg
			}
		}
		if d == "" {
			break
		}
	}
	switch {
	case nearest != nil:
		s.add(s.tests, nearest.importPath, f)
	case !placed && !accounted:
		s.why = append(s.why, f+" is outside any package")
	}
}

// importPathFor is the import path of a directory in a module (whether a
// package is there now or not: a deleted package's importers are found by
// it).
func (g *goRepo) importPathFor(dir string) (string, bool) {
	if pkg := g.packages[dir]; pkg != nil {
		return pkg.importPath, true
	}
	root, mp, ok := g.moduleOf(dir)
	if !ok {
		return "", false
	}
	if rel := strings.TrimPrefix(strings.TrimPrefix(dir, root), "/"); rel != "" {
		mp += "/" + rel
	}
	return mp, true
}

// affected walks the reverse import graph from the changed code, and adds
// the packages whose tests import what it reached, and those whose tests
// alone changed.
func (g *goRepo) affected(s seeds) map[string]map[string]bool {
	importers := map[string][]string{} // import path → importers' import paths (non-test imports)
	for _, pkg := range g.packages {
		for imp := range pkg.imports {
			importers[g.resolve(imp)] = append(importers[g.resolve(imp)], pkg.importPath)
		}
	}
	reached := map[string]map[string]bool{} // code that changed, directly or through an import
	if len(s.code) > maxSeeds {
		// One walk from all of them, with one reason: a walk per seed
		// costs seeds × packages.
		reached = walk(importers, s.code, map[string]bool{fmt.Sprintf("%d changed packages", len(s.code)): true})
	} else {
		for ip, files := range s.code {
			for cur := range walk(importers, map[string]map[string]bool{ip: nil}, nil) {
				addReasons(reached, cur, files)
			}
		}
	}
	out := map[string]map[string]bool{}
	for ip, files := range reached {
		if g.byImport[ip] != nil {
			addReasons(out, ip, files)
		}
	}
	for _, pkg := range g.packages {
		for imp := range pkg.testImports {
			if files, ok := reached[g.resolve(imp)]; ok {
				addReasons(out, pkg.importPath, files)
			}
		}
	}
	for ip, files := range s.tests {
		if g.byImport[ip] != nil {
			addReasons(out, ip, files)
		}
	}
	return out
}

// addReasons adds files to a target's reasons, at most maxReasons.
func addReasons(m map[string]map[string]bool, ip string, files map[string]bool) {
	if m[ip] == nil {
		m[ip] = map[string]bool{}
	}
	for f := range files {
		if len(m[ip]) >= maxReasons {
			return
		}
		m[ip][f] = true
	}
}

// resolve maps an import path through the local replacements to the
// package it builds.
func (g *goRepo) resolve(imp string) string {
	if _, ok := g.byImport[imp]; ok {
		return imp
	}
	for from, to := range g.aliases {
		if imp == from || strings.HasPrefix(imp, from+"/") {
			return to + strings.TrimPrefix(imp, from)
		}
	}
	return imp
}

// aliasReplaced reads the modules' local replace directives (and a
// go.work's): an import of the replaced module path builds the module in
// that directory, whatever path its own go.mod declares.
func (g *goRepo) aliasReplaced(t Tree) {
	g.aliases = map[string]string{}
	for root := range g.modules {
		name := path.Join(root, "go.mod")
		b, err := t.Read(name)
		if err != nil {
			continue
		}
		mf, err := modfile.ParseLax(name, b, nil)
		if err != nil {
			continue
		}
		for _, r := range mf.Replace {
			if !modfile.IsDirectoryPath(r.New.Path) {
				continue
			}
			target := strings.TrimPrefix(path.Clean(path.Join(root, r.New.Path)), "./")
			if target == "." {
				target = ""
			}
			if mp, ok := g.modules[target]; ok && mp != r.Old.Path {
				g.aliases[r.Old.Path] = mp
			}
		}
	}
}

// Bounds on a selection's work and output: a pull request can change
// thousands of packages.
const (
	maxSeeds   = 200 // changed packages walked one by one (with their own reasons)
	maxReasons = 10  // reasons kept per target
)

// walk is one breadth-first walk of the importers from every seed at once:
// every package reached, each given reasons.
func walk(importers map[string][]string, seeds map[string]map[string]bool, reasons map[string]bool) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	var queue []string
	for ip := range seeds {
		out[ip] = reasons
		queue = append(queue, ip)
	}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, next := range importers[cur] {
			if _, ok := out[next]; !ok {
				out[next] = reasons
				queue = append(queue, next)
			}
		}
	}
	return out
}
