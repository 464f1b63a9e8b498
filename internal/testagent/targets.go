package testagent

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/sergi/go-diff/diffmatchpatch"

	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/testgen"
)

// Bounds on what target-finding reads of a pull request: its code is
// anyone's with a branch.
const (
	maxTargets      = 20
	maxTargetFiles  = 50        // changed Go files read
	maxTargetBytes  = 256 << 10 // one Go file
	maxTargetSource = 8 << 10   // one function's source sent on
	maxStyleBytes   = 2 << 10   // of an existing test file, as a style example
	diffTimeout     = time.Second
)

// Targets are the functions a pull request changes, read from its trees
// without running anything: changed non-test Go files (not vendored, not
// testdata, not generated), parsed at head, their functions whose lines
// the diff against base touches. At most 20, in path order.
func Targets(head, base *git.Tree, changed []string) []testgen.Target {
	var out []testgen.Target
	files := 0
	for _, p := range goSources(changed) {
		if files == maxTargetFiles || len(out) >= maxTargets {
			break
		}
		src, err := head.Read(p)
		if err != nil || len(src) > maxTargetBytes || generated(src) {
			continue // deleted at head, too large, or not written by people
		}
		files++
		old, _ := base.Read(p) // absent: every line is new
		out = append(out, fileTargets(head, p, src, changedLines(string(old), string(src)))...)
	}
	return out[:min(len(out), maxTargets)]
}

// goSources are the changed paths that can hold functions worth a test.
func goSources(changed []string) []string {
	var out []string
	for _, p := range changed {
		parts := strings.Split(p, "/")
		skip := !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go")
		for _, d := range parts[:len(parts)-1] {
			skip = skip || d == "vendor" || d == "testdata" || strings.HasPrefix(d, ".") || strings.HasPrefix(d, "_")
		}
		if !skip {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// generated: Go's convention for files a tool wrote.
func generated(src []byte) bool {
	head := src[:min(len(src), 4096)]
	return bytes.Contains(head, []byte("// Code generated ")) && bytes.Contains(head, []byte("DO NOT EDIT."))
}

// changedLines are head's lines (1-based) a line diff from old adds or
// changes; where lines were only removed, the line after them.
func changedLines(old, head string) map[int]bool {
	out := map[int]bool{}
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = diffTimeout
	a, b, lines := dmp.DiffLinesToChars(old, head)
	line := 1
	for _, d := range dmp.DiffCharsToLines(dmp.DiffMain(a, b, false), lines) {
		n := strings.Count(d.Text, "\n")
		if !strings.HasSuffix(d.Text, "\n") {
			n++
		}
		switch d.Type {
		case diffmatchpatch.DiffEqual:
			line += n
		case diffmatchpatch.DiffInsert:
			for i := range n {
				out[line+i] = true
			}
			line += n
		case diffmatchpatch.DiffDelete:
			out[line] = true
		}
	}
	return out
}

// fileTargets are one file's functions with changed lines.
func fileTargets(head *git.Tree, p string, src []byte, changed map[int]bool) []testgen.Target {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, p, src, parser.SkipObjectResolution)
	if err != nil {
		return nil // does not parse: CI says so, ferry writes no tests for it
	}
	dir := path.Dir(p)
	var out []testgen.Target
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil || fd.Name.Name == "init" || (f.Name.Name == "main" && fd.Name.Name == "main") {
			continue
		}
		start, end := fset.Position(fd.Pos()), fset.Position(fd.End())
		var lines []int
		for l := start.Line; l <= end.Line; l++ {
			if changed[l] {
				lines = append(lines, l)
			}
		}
		if len(lines) == 0 {
			continue
		}
		sig := strings.TrimSpace(string(src[start.Offset:fset.Position(fd.Body.Lbrace).Offset]))
		body := string(src[start.Offset:end.Offset])
		out = append(out, testgen.Target{Dir: dir, ImportPath: importPath(head, dir), Package: f.Name.Name, Func: testgen.FuncName(fd),
			File: p, Signature: sig, Source: body[:min(len(body), maxTargetSource)], Changed: lines, Uncovered: lines,
			Style: style(head, dir)})
	}
	return out
}

// importPath is dir's import path under the nearest go.mod ("" when none).
func importPath(t *git.Tree, dir string) string {
	for d := dir; ; d = path.Dir(d) {
		mod := path.Join(d, "go.mod")
		if data, err := t.Read(mod); err == nil {
			for _, l := range strings.Split(string(data[:min(len(data), 4096)]), "\n") {
				if m, ok := strings.CutPrefix(strings.TrimSpace(l), "module "); ok {
					rel := strings.TrimPrefix(strings.TrimPrefix(dir, d), "/")
					return path.Join(strings.Trim(strings.TrimSpace(m), `"`), rel)
				}
			}
			return ""
		}
		if d == "." || d == "/" {
			return ""
		}
	}
}

// style is the start of a test file of the package, if it has one.
func style(t *git.Tree, dir string) string {
	for _, p := range t.Paths() {
		if path.Dir(p) == dir && strings.HasSuffix(p, "_test.go") {
			if data, err := t.Read(p); err == nil {
				return string(data[:min(len(data), maxStyleBytes)])
			}
		}
	}
	return ""
}
