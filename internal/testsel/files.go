package testsel

import (
	"path"
	"regexp"
	"sort"
	"strings"
)

// fileLang is a language selected at file level: which files are its
// sources and tests, which files change every test, and how a source names
// the files it imports.
type fileLang struct {
	name    string
	source  func(p string) bool
	test    func(p string) bool
	config  func(p string) bool // a change selects every test of the language
	imports func(g *fileGraph, from string, src []byte) []string
}

// fileGraph is a language's sources and who imports whom.
type fileGraph struct {
	files     map[string]bool
	importers map[string][]string
	roots     []string // Python source roots ("" the repository's root, src/, …)
}

var (
	pyImport     = regexp.MustCompile(`(?m)^[ \t]*import[ \t]+([A-Za-z0-9_., \t]+)`)
	pyFromImport = regexp.MustCompile(`(?m)^[ \t]*from[ \t]+(\.*[A-Za-z0-9_.]*)[ \t]+import[ \t]+(?:\(([^)]*)\)|([A-Za-z0-9_, \t*]+))`)
	// import … from, export … from, require(…), import(…): the specifier
	// in quotes or backquotes (a template without substitutions).
	jsImport = regexp.MustCompile("(?:\\bimport\\s*(?:[\\w*{}\\s,$]+\\s*from\\s*)?|\\bexport\\s*[\\w*{}\\s,$]*\\s*from\\s*|\\brequire\\s*\\(\\s*|\\bimport\\s*\\(\\s*)['\"`]([^'\"`$\\n]+)['\"`]")
)

var python = fileLang{
	name:   "python",
	source: func(p string) bool { return strings.HasSuffix(p, ".py") },
	test: func(p string) bool {
		b := path.Base(p)
		return strings.HasSuffix(b, ".py") && (strings.HasPrefix(b, "test_") || strings.HasSuffix(b, "_test.py"))
	},
	config: func(p string) bool {
		b := path.Base(p)
		return b == "conftest.py" && dirOf(p) == "" || b == "pyproject.toml" || b == "setup.py" || b == "setup.cfg" ||
			b == "tox.ini" || b == "pytest.ini" || strings.HasPrefix(b, "requirements") && strings.HasSuffix(b, ".txt") ||
			b == "Pipfile" || b == "Pipfile.lock" || b == "poetry.lock" || b == "uv.lock"
	},
	imports: pythonImports,
}

var jsExts = []string{".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts"}

var javascript = fileLang{
	name: "javascript",
	source: func(p string) bool {
		return !strings.Contains("/"+p, "/node_modules/") && slicesContains(jsExts, path.Ext(p)) && !strings.HasSuffix(p, ".d.ts")
	},
	test: func(p string) bool {
		b := strings.TrimSuffix(path.Base(p), path.Ext(p))
		return strings.HasSuffix(b, ".test") || strings.HasSuffix(b, ".spec") || strings.Contains("/"+p, "/__tests__/")
	},
	config: func(p string) bool {
		b := path.Base(p)
		return b == "package.json" || b == "package-lock.json" || b == "yarn.lock" || b == "pnpm-lock.yaml" ||
			strings.HasPrefix(b, "tsconfig") && strings.HasSuffix(b, ".json") || strings.HasPrefix(b, "jest.config.") ||
			strings.HasPrefix(b, "vitest.config.") || strings.HasPrefix(b, "babel.config.") || b == ".babelrc"
	},
	imports: jsImports,
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// selectFiles selects a language's tests at file level: the tests among
// the changed files, and every test that imports a changed source,
// transitively; a test directory's conftest.py (Python) reaches every
// test under it. A change to the language's configuration selects every
// test, said so. claimed are the changed files the language accounts for.
func selectFiles(l fileLang, t Tree, changed []string) (targets map[string]map[string]bool, tests int, why []string, claimed map[string]bool) {
	g := &fileGraph{files: map[string]bool{}, importers: map[string][]string{}}
	var all []string
	for _, p := range t.Paths() {
		if l.source(p) {
			g.files[p] = true
			all = append(all, p)
		}
	}
	targets, claimed = map[string]map[string]bool{}, map[string]bool{}
	if len(all) == 0 {
		return targets, 0, nil, claimed
	}
	if l.name == "python" {
		g.roots = pythonRoots(t.Paths())
	}
	for _, p := range all {
		if l.test(p) {
			tests++
		}
		if src, err := t.Read(p); err == nil {
			for _, imp := range l.imports(g, p, src) {
				g.importers[imp] = append(g.importers[imp], p)
			}
		}
	}
	for _, f := range changed {
		switch {
		case l.config(f):
			claimed[f] = true
			why = append(why, f+" configures every "+l.name+" test")
		case l.source(f):
			claimed[f] = true
			if !g.reach(l, f, f, targets, all) && !l.test(f) && g.files[f] && tests > 0 {
				why = append(why, f+" reaches no "+l.name+" test ferry can see (an alias, or a dynamic import?)")
			}
		}
	}
	return targets, tests, why, claimed
}

// reach adds every test that imports from, transitively (from itself if it
// is a test), with the reason; a conftest.py reaches the tests under its
// directory. found: it reached one.
func (g *fileGraph) reach(l fileLang, from, reason string, targets map[string]map[string]bool, all []string) (found bool) {
	seen := map[string]bool{from: true}
	queue := []string{from}
	if path.Base(from) == "conftest.py" {
		prefix := dirOf(from)
		for _, p := range all {
			if l.test(p) && (prefix == "" || strings.HasPrefix(p, prefix+"/")) && !seen[p] {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if l.test(cur) {
			if targets[cur] == nil {
				targets[cur] = map[string]bool{}
			}
			targets[cur][reason] = true
			found = true
		}
		for _, next := range g.importers[cur] {
			if !seen[next] {
				seen[next] = true
				queue = append(queue, next)
			}
		}
	}
	return found
}

// pythonRoots are the directories imports resolve from: the repository's
// root, and src/ layouts.
func pythonRoots(paths []string) []string {
	roots := map[string]bool{"": true}
	for _, p := range paths {
		if d := dirOf(p); path.Base(d) == "src" && strings.HasSuffix(p, ".py") {
			roots[d] = true
		}
		for d := dirOf(p); d != ""; d = dirOf(d) {
			if path.Base(d) == "src" {
				roots[d] = true
			}
		}
	}
	out := make([]string, 0, len(roots))
	for r := range roots {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// pythonImports resolves a Python file's imports of the repository's own
// modules: absolute (from every source root), relative (from its
// package), and `from pkg import mod` naming submodules.
func pythonImports(g *fileGraph, from string, src []byte) []string {
	var out []string
	add := func(dotted string) {
		for _, root := range g.roots {
			out = append(out, g.pyModule(root, strings.ReplaceAll(dotted, ".", "/"))...)
		}
	}
	for _, m := range pyImport.FindAllSubmatch(src, -1) {
		for _, part := range strings.Split(string(m[1]), ",") {
			name, _, _ := strings.Cut(strings.TrimSpace(part), " ")
			if name != "" {
				add(name)
			}
		}
	}
	for _, m := range pyFromImport.FindAllSubmatch(src, -1) {
		list := string(m[2]) + string(m[3]) // parenthesized (lines, comments) or not
		var names []string
		for _, line := range strings.Split(list, "\n") {
			line, _, _ = strings.Cut(line, "#")
			names = append(names, strings.Split(line, ",")...)
		}
		mod := string(m[1])
		base := ""
		if dots := len(mod) - len(strings.TrimLeft(mod, ".")); dots > 0 {
			base = dirOf(from)
			for range dots - 1 {
				base = dirOf(base)
			}
			rel := strings.ReplaceAll(strings.TrimLeft(mod, "."), ".", "/")
			out = append(out, g.pyModule(base, rel)...)
			for _, n := range names {
				n, _, _ = strings.Cut(strings.TrimSpace(n), " ")
				out = append(out, g.pyModule(base, path.Join(rel, n))...)
			}
			continue
		}
		add(mod)
		for _, n := range names {
			if n, _, _ = strings.Cut(strings.TrimSpace(n), " "); n != "" && n != "*" {
				add(mod + "." + n)
			}
		}
	}
	return out
}

// pyModule finds a module's file under root (and its packages'
// __init__.py files, which importing it runs).
func (g *fileGraph) pyModule(root, rel string) []string {
	if rel == "" || rel == "." {
		if f := path.Join(root, "__init__.py"); g.files[f] {
			return []string{f}
		}
		return nil
	}
	var out []string
	parts := strings.Split(rel, "/")
	for i := 1; i < len(parts); i++ {
		if f := strings.TrimPrefix(path.Join(root, path.Join(parts[:i]...), "__init__.py"), "/"); g.files[f] {
			out = append(out, f)
		}
	}
	for _, f := range []string{path.Join(root, rel+".py"), path.Join(root, rel, "__init__.py")} {
		if f = strings.TrimPrefix(f, "/"); g.files[f] {
			out = append(out, f)
		}
	}
	return out
}

// jsImports resolves a JavaScript or TypeScript file's relative imports
// (import, export … from, require, import()): the file with each
// extension, or a directory's index.
func jsImports(g *fileGraph, from string, src []byte) []string {
	var out []string
	for _, m := range jsImport.FindAllSubmatch(src, -1) {
		spec := string(m[1])
		if !strings.HasPrefix(spec, "./") && !strings.HasPrefix(spec, "../") {
			continue // a package, or a path alias: see the policy's tests map
		}
		target := path.Join(dirOf(from), spec)
		if strings.HasPrefix(target, "../") {
			continue
		}
		cands := []string{target}
		for _, ext := range jsExts {
			cands = append(cands, target+ext, target+"/index"+ext)
		}
		if ext := path.Ext(target); ext == ".js" || ext == ".mjs" || ext == ".cjs" {
			// TypeScript imports its sources by their compiled names.
			stem := strings.TrimSuffix(target, ext)
			cands = append(cands, stem+".ts", stem+".tsx", stem+".mts", stem+".cts")
		}
		for _, c := range cands {
			if g.files[c] {
				out = append(out, c)
				break
			}
		}
	}
	return out
}
