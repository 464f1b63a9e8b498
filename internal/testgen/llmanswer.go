package testgen

// What a model's answer may hold: the checks every test it writes passes
// before ferry assembles it into a file and runs it.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
)

// modelTest is one test of the model's answer; source is the file ferry
// assembled from it.
type modelTest struct {
	Name    string   `json:"name"`
	Code    string   `json:"code"`
	Imports []string `json:"imports"`
	source  []byte
}

// parseTests checks an answer and assembles each test's file. It is the
// request's Check and runs again on the answer the model returns.
func parseTests(answer []byte, t Target, allowed map[string]string) ([]modelTest, error) {
	var a struct {
		Tests []modelTest `json:"tests"`
	}
	dec := json.NewDecoder(bytes.NewReader(answer))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("the answer is not the JSON asked for: %w", err)
	}
	if len(a.Tests) > maxModelTests {
		return nil, fmt.Errorf("%d tests: at most %d", len(a.Tests), maxModelTests)
	}
	seen := map[string]bool{}
	for i := range a.Tests {
		mt := &a.Tests[i]
		if !validTestName(mt.Name) {
			return nil, fmt.Errorf("test %d: %q is not a Go test or fuzz function name", i+1, mt.Name)
		}
		if seen[mt.Name] {
			return nil, fmt.Errorf("test %d: %s appears twice", i+1, mt.Name)
		}
		seen[mt.Name] = true
		src, err := assemble(t, *mt, allowed)
		if err != nil {
			return nil, fmt.Errorf("test %s: %w", mt.Name, err)
		}
		mt.source = src
	}
	return a.Tests, nil
}

// validTestName is what go test runs: Test or Fuzz, then nothing or a
// character that is not a lower-case letter.
func validTestName(name string) bool {
	rest, ok := strings.CutPrefix(name, "Test")
	if !ok {
		rest, ok = strings.CutPrefix(name, "Fuzz")
	}
	if !ok || !token.IsIdentifier(name) {
		return false
	}
	return rest == "" || !(rest[0] >= 'a' && rest[0] <= 'z')
}

// assemble parses the model's code (one function, or a whole file), checks
// it defines exactly the named test and nothing forbidden, and writes the
// file: ferry's package clause, imports ferry allows, the function.
func assemble(t Target, mt modelTest, allowed map[string]string) ([]byte, error) {
	if len(mt.Code) > maxModelCode {
		return nil, fmt.Errorf("%d bytes of code: at most %d", len(mt.Code), maxModelCode)
	}
	pkg := t.Package
	fset := token.NewFileSet()
	src := mt.Code
	if _, err := parser.ParseFile(fset, "", src, parser.PackageClauseOnly); err != nil {
		src = "package " + pkg + "\n\n" + src
	}
	f, err := parser.ParseFile(fset, "test.go", src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("the code does not parse: %w", err)
	}
	fd, vars, err := theTest(f, mt.Name)
	if err != nil {
		return nil, err
	}
	if err := noDirectives(f); err != nil {
		return nil, err
	}
	declared, err := declaredImports(f, mt.Imports)
	if err != nil {
		return nil, err
	}
	lines := importLines(declared, selectorNames(f), allowed, t.ImportPath)
	start := fd.Pos()
	if fd.Doc != nil {
		start = fd.Doc.Pos()
	}
	var body string
	for _, v := range vars {
		body += src[fset.Position(v.Pos()).Offset:fset.Position(v.End()).Offset] + "\n\n"
	}
	body += src[fset.Position(start).Offset:fset.Position(fd.End()).Offset]
	file := fmt.Sprintf("package %s\n\nimport (\n%s\n)\n\n%s\n", pkg, strings.Join(lines, "\n"), body)
	out, err := format.Source([]byte(file))
	if err != nil {
		return nil, fmt.Errorf("the assembled file does not format: %w", err)
	}
	return out, nil
}

// noDirectives refuses compiler directives: a go:generate line runs a
// command, and a go:linkname line reaches past the API.
func noDirectives(f *ast.File) error {
	for _, g := range f.Comments {
		for _, c := range g.List {
			if strings.HasPrefix(c.Text, "//go:") || strings.HasPrefix(c.Text, "//line ") {
				return fmt.Errorf("a directive (%s): none is allowed", strings.Fields(c.Text)[0])
			}
		}
	}
	return nil
}

// importLines are the import block's lines, sorted: of the declared
// imports, those the code uses, named as the function's file names them;
// a package neither the standard library's nor the file's is left out
// (the test will not compile, and it is not ferry's to add).
func importLines(declared map[string]string, used map[string]bool, allowed map[string]string, importPath string) []string {
	var lines []string
	for p, name := range declared {
		if want, ok := allowed[p]; ok {
			name = want
		} else if !standardLibrary(p, importPath) {
			continue
		}
		switch {
		case !used[name]:
		case name == importName(p):
			lines = append(lines, strconv.Quote(p))
		default:
			lines = append(lines, name+" "+strconv.Quote(p))
		}
	}
	slices.Sort(lines)
	return lines
}

// theTest is the file's one function, which must be the named test: any
// other declaration could collide with the package's names or another
// generated file's.
func theTest(f *ast.File, name string) (*ast.FuncDecl, []*ast.GenDecl, error) {
	var (
		fd   *ast.FuncDecl
		vars []*ast.GenDecl
	)
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			if d.Tok == token.IMPORT {
				continue
			}
			if err := ownVars(d, name); err != nil {
				return nil, nil, err
			}
			vars = append(vars, d)
			continue
		case *ast.FuncDecl:
			if fd == nil {
				fd = d
				continue
			}
		}
		return nil, nil, fmt.Errorf("the code must declare only the function %s (and variables named %s…)", name, lowerFirst(name))
	}
	if fd == nil || fd.Name.Name != name || fd.Recv != nil || fd.Type.TypeParams != nil {
		return nil, nil, fmt.Errorf("the code does not declare the function %s", name)
	}
	want := "*testing.T"
	if strings.HasPrefix(name, "Fuzz") {
		want = "*testing.F"
	}
	ps := fd.Type.Params.List
	if len(ps) != 1 || len(ps[0].Names) > 1 || exprString(ps[0].Type) != want || fd.Type.Results != nil {
		return nil, nil, fmt.Errorf("%s must be func(%s)", name, want)
	}
	return fd, vars, nil
}

// ownVars: a test may keep state across its runs (a table, a counter) in
// package-level variables or constants named after it, so two tests
// cannot clash, set from literals only: nothing runs when the package
// loads.
func ownVars(d *ast.GenDecl, test string) error {
	prefix := lowerFirst(test)
	if d.Tok != token.VAR && d.Tok != token.CONST {
		return fmt.Errorf("the code must declare only the function %s (and variables named %s…)", test, prefix)
	}
	for _, spec := range d.Specs {
		vs, ok := spec.(*ast.ValueSpec)
		if !ok {
			return fmt.Errorf("declare only variables and constants beside %s", test)
		}
		for _, n := range vs.Names {
			if !strings.HasPrefix(n.Name, prefix) {
				return fmt.Errorf("the code must declare only the function %s (and variables named %s…), not %s", test, prefix, n.Name)
			}
		}
		var err error
		for _, v := range vs.Values {
			ast.Inspect(v, func(n ast.Node) bool {
				switch n.(type) {
				case *ast.CallExpr, *ast.FuncLit:
					err = fmt.Errorf("%s: a package-level value must be a literal (nothing may run when the package loads)", vs.Names[0].Name)
				}
				return err == nil
			})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func exprString(e ast.Expr) string {
	var b bytes.Buffer
	_ = format.Node(&b, token.NewFileSet(), e)
	return b.String()
}

// declaredImports are the imports the model declared and those its file
// has, path → name; a forbidden one, a dot or a blank import refuses the
// whole test.
func declaredImports(f *ast.File, declared []string) (map[string]string, error) {
	out := map[string]string{"testing": "testing"}
	for _, p := range declared {
		if forbiddenImport(p) {
			return nil, fmt.Errorf("imports %q, which tests written by a model may not", p)
		}
		out[p] = importName(p)
	}
	for _, spec := range f.Imports {
		p, err := strconv.Unquote(spec.Path.Value)
		if err != nil || forbiddenImport(p) {
			return nil, fmt.Errorf("imports %s, which tests written by a model may not", spec.Path.Value)
		}
		out[p] = importName(p)
		if spec.Name != nil {
			if spec.Name.Name == "." || spec.Name.Name == "_" {
				return nil, fmt.Errorf("imports %s as %s: name what you import", spec.Path.Value, spec.Name.Name)
			}
			out[p] = spec.Name.Name
		}
	}
	return out, nil
}

// forbiddenImport: what a test written by a model may not import. A test
// runs on the user's machine and in CI before anyone reads it, so of the
// standard library only packages that compute are allowed — no os, no
// files, processes, network, environment, build tooling or system calls
// (an allowlist: go/build alone can run a program). Other packages are
// allowed only when the function's own file imports them (assemble keeps
// no other), less the system and network extensions.
func forbiddenImport(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	if !strings.Contains(first, ".") {
		return !testStd[p]
	}
	for _, prefix := range []string{"golang.org/x/sys/", "golang.org/x/net/"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// testStd are the standard packages a model's test may import.
var testStd = map[string]bool{
	"testing": true, "fmt": true, "strings": true, "strconv": true, "bytes": true, "errors": true, "math": true,
	"math/big": true, "math/bits": true, "math/cmplx": true, "math/rand": true, "math/rand/v2": true, "sort": true,
	"slices": true, "maps": true, "cmp": true, "iter": true, "unicode": true, "unicode/utf8": true, "unicode/utf16": true,
	"regexp": true, "time": true, "context": true, "sync": true, "sync/atomic": true, "reflect": true, "bufio": true,
	"io": true, "encoding/json": true, "encoding/hex": true, "encoding/base64": true, "encoding/base32": true,
	"encoding/binary": true, "encoding/xml": true, "encoding/csv": true, "container/heap": true, "container/list": true,
	"container/ring": true, "hash": true, "hash/crc32": true, "hash/fnv": true, "crypto/sha256": true,
	"crypto/sha1": true, "crypto/md5": true, "crypto/subtle": true, "html": true, "net/url": true, "net/netip": true,
	"path": true, "text/tabwriter": true, "unique": true,
}

// selectorNames are the identifiers used as X in X.Sel: the package names
// code refers to (and some variables, which only keeps an import that is
// then unused — the compile stage drops that test).
func selectorNames(n ast.Node) map[string]bool {
	out := map[string]bool{}
	ast.Inspect(n, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				out[id.Name] = true
			}
		}
		return true
	})
	return out
}

// importName guesses the name a package is used by: its last element,
// without a major version suffix.
func importName(p string) string {
	elems := strings.Split(p, "/")
	name := elems[len(elems)-1]
	if len(elems) > 1 && len(name) > 1 && name[0] == 'v' && strings.Trim(name[1:], "0123456789") == "" {
		name = elems[len(elems)-2]
	}
	return strings.NewReplacer("-", "", ".", "").Replace(name)
}

// standardLibrary tells a standard package apart without reading GOROOT
// (a trimmed binary does not know where it is): no dot in the first
// element. The module's own first element, dotless in modules such as
// "myapp", is not the standard library's.
func standardLibrary(p, importPath string) bool {
	first, _, _ := strings.Cut(p, "/")
	own, _, _ := strings.Cut(importPath, "/")
	return !strings.Contains(first, ".") && first != own && !forbiddenImport(p)
}
