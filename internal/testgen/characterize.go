package testgen

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/constant"
	"go/format"
	"go/parser"
	"go/token"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Characterize proposes characterization tests. For an exported plain
// function whose parameters and results are all of basic types, it writes
// a table test whose inputs are boundary values (the constants the
// function compares against and their neighbours, the literals of the
// package's tests that call it, the edges of each type) and whose expected
// values are recorded from the code as it is now. Such a test does not say
// the behaviour is right, only that it has not changed; the filter keeps it
// only where it covers changed lines and catches a mutant.
//
// Recording runs the package's code: one `go test` per package, with the
// recorder added through -overlay so the repository's files are never
// written.
type Characterize struct {
	MaxRows int           // rows of one table; 0: 24
	Timeout time.Duration // the recording run of one package; 0: two minutes
	Env     []string      // added to the go command's environment (GOFLAGS, GOWORK, GOCACHE …)
}

// characterization is one target on its way to a candidate.
type characterization struct {
	target Target
	fn     *basicFunc
	rows   [][]string // input expressions, one per parameter
	recs   []*record  // what each row did, nil where nothing was recorded
	err    error      // why nothing was recorded
}

// Generate records the behaviour of every eligible target and returns one
// candidate per target with at least one stable row. Targets it could not
// record come back in a *SkippedError beside the candidates.
func (c Characterize) Generate(ctx context.Context, dir string, targets []Target) ([]Candidate, error) {
	pkgs := packages{}
	byDir := map[string][]*characterization{}
	var dirs []string
	var skips []Skip
	for _, t := range targets {
		fn, err := pkgs.basicFunc(dir, t)
		if err != nil {
			skips = append(skips, Skip{Target: t.Func, Reason: "characterization: reading the package", Err: err})
			continue
		}
		if !fn.characterizable() {
			continue
		}
		if _, ok := byDir[t.Dir]; !ok {
			dirs = append(dirs, t.Dir)
		}
		byDir[t.Dir] = append(byDir[t.Dir], &characterization{target: t, fn: fn, rows: fn.rows(c.maxRows(), 8)})
	}
	var out []Candidate
	for _, d := range dirs {
		chars := byDir[d]
		if err := c.record(ctx, filepath.Join(dir, filepath.FromSlash(d)), chars); err != nil {
			return out, fmt.Errorf("characterize %s: %w", d, err)
		}
		for _, ch := range chars {
			cand, err := ch.candidate()
			if err != nil {
				skips = append(skips, Skip{Target: ch.target.Func, Reason: "characterization: recording its behaviour", Err: err})
				continue
			}
			out = append(out, cand)
		}
	}
	return out, skipErr(skips)
}

// characterizable: a plain function of basic types with a result to pin.
func (fn *basicFunc) characterizable() bool { return fn != nil && len(fn.results) > 0 }

func (c Characterize) maxRows() int {
	if c.MaxRows > 0 {
		return c.MaxRows
	}
	return 24
}

// candidate writes the final test from the recorded rows.
func (ch *characterization) candidate() (Candidate, error) {
	if ch.err != nil {
		return Candidate{}, ch.err
	}
	var rows [][]string
	var recs []*record
	for i, r := range ch.recs {
		if r != nil && r.Stable && (r.Panic || len(r.Res) == len(ch.fn.results)) {
			rows, recs = append(rows, ch.rows[i]), append(recs, r)
		}
	}
	if len(rows) == 0 {
		return Candidate{}, fmt.Errorf("no input gave the same answer twice")
	}
	name := "TestCharacterize" + ch.fn.name
	src, err := characterizationSource(ch.target.Package, name, ch.fn, rows, recs)
	if err != nil {
		return Candidate{}, err
	}
	return Candidate{
		Name:   name,
		File:   path.Join(ch.target.Dir, "ferry_characterize_"+strings.ToLower(ch.fn.name)+"_test.go"),
		Source: string(src),
		Origin: "characterization",
		Target: ch.target.Func,
	}, nil
}

// characterizationSource is the test file: one table, one row per input,
// the recorded results as the expected values.
func characterizationSource(pkg, name string, fn *basicFunc, rows [][]string, recs []*record) ([]byte, error) {
	params := fieldNames(fn.params, fuzzReserved)
	wants := resultNames(fn.results, "want", "wantErr")
	panics := false
	for _, r := range recs {
		panics = panics || r.Panic
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "func %s(t *testing.T) {\n", name)
	writeCompareHelpers(&b, fn.results)
	b.WriteString("tests := []struct {\n")
	for i, p := range fn.params {
		fmt.Fprintf(&b, "%s %s\n", params[i], p.typ)
	}
	for i, r := range fn.results {
		fmt.Fprintf(&b, "%s %s\n", wants[i], r.fieldType())
	}
	if panics {
		b.WriteString("wantPanic bool\n")
	}
	b.WriteString("}{\n")
	for i, row := range rows {
		var cells []string
		for j, p := range fn.params {
			cells = append(cells, params[j]+": "+p.literal(row[j]))
		}
		if recs[i].Panic {
			cells = append(cells, "wantPanic: true")
		} else {
			for j, r := range fn.results {
				cells = append(cells, wants[j]+": "+r.literal(recs[i].Res[j]))
			}
		}
		fmt.Fprintf(&b, "{%s},\n", strings.Join(cells, ", "))
	}
	b.WriteString("}\nfor _, tt := range tests {\n")
	writeCheck(&b, fn, params, wants, panics)
	b.WriteString("}\n}\n")
	header := fmt.Sprintf("// Characterization tests generated by ferry testgen: they pin the current\n"+
		"// behaviour of %s; change the expected values when the behaviour changes\n// on purpose.\n", fn.name)
	src, err := testFile(header, pkg, b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("the characterization test of %s: %w", fn.name, err)
	}
	return src, nil
}

// testFile is a generated test file: the header, the package clause, the
// imports the body uses (of the few a generated body can use), the body.
func testFile(header, pkg string, body []byte) ([]byte, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+string(body), parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	used := selectorNames(f)
	var imports []string
	for _, p := range []string{"bytes", "math", "testing"} {
		if used[p] {
			imports = append(imports, strconv.Quote(p))
		}
	}
	src := fmt.Sprintf("%s\npackage %s\n\nimport (\n%s\n)\n\n%s", header, pkg, strings.Join(imports, "\n"), body)
	out, err := format.Source([]byte(src))
	if err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	return out, nil
}

// writeCompareHelpers declares, inside the test function (a package-level
// helper could collide with the package's own names or with another
// generated file), what comparing the results needs.
func writeCompareHelpers(b *bytes.Buffer, results []basicVar) {
	if hasKind(results, kindFloat) {
		b.WriteString("// NaN is not equal to itself; a recorded NaN is expected again.\n" +
			"same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }\n")
	}
	if hasKind(results, kindError) {
		b.WriteString("errText := func(err error) string {\nif err == nil {\nreturn \"\"\n}\nreturn err.Error()\n}\n")
	}
}

// writeCheck writes the body of the loop over the table.
func writeCheck(b *bytes.Buffer, fn *basicFunc, params, wants []string, panics bool) {
	var args, verbs []string
	for i, p := range fn.params {
		args = append(args, "tt."+params[i])
		verbs = append(verbs, p.verb())
	}
	call := fn.name + "(" + strings.Join(args, ", ") + ")"
	shown := fn.name + "(" + strings.Join(verbs, ", ") + ")"
	argList := strings.Join(append([]string{""}, args...), ", ")
	if panics {
		fmt.Fprintf(b, "if tt.wantPanic {\nfunc() {\ndefer func() {\nif recover() == nil {\n"+
			"t.Errorf(%q%s)\n}\n}()\n%s\n}()\ncontinue\n}\n", shown+" did not panic", argList, call)
	}
	gots := resultNames(fn.results, "got", "err")
	fmt.Fprintf(b, "%s := %s\n", strings.Join(gots, ", "), call)
	for i, r := range fn.results {
		label := " = "
		if len(fn.results) > 1 {
			label = " " + gots[i] + " = "
		}
		fmt.Fprintf(b, "if %s {\nt.Errorf(%q%s, %s, %s)\n}\n", r.differs(gots[i], "tt."+wants[i]),
			shown+label+r.verb()+", want "+r.verb(), argList, r.shown(gots[i]), "tt."+wants[i])
	}
}

func hasKind(vs []basicVar, k kind) bool {
	for _, v := range vs {
		if v.kind == k {
			return true
		}
	}
	return false
}

// fieldNames names the table's fields (or a fuzz function's arguments)
// after the parameters, renaming the blank, the unnamed, the repeated and
// the reserved.
func fieldNames(params []basicVar, reserved map[string]bool) []string {
	seen := map[string]bool{}
	var out []string
	for i, p := range params {
		n := p.name
		if n == "" || n == "_" || reserved[n] || seen[n] || strings.HasPrefix(n, "want") || strings.HasPrefix(n, "got") ||
			strings.HasPrefix(n, "again") {
			n = fmt.Sprintf("in%d", i)
		}
		seen[n] = true
		out = append(out, n)
	}
	return out
}

// resultNames name the results: base, base1 … and errName for an error.
func resultNames(results []basicVar, base, errName string) []string {
	var out []string
	for i, r := range results {
		switch {
		case r.kind == kindError:
			out = append(out, errName)
		case i == 0:
			out = append(out, base)
		default:
			out = append(out, fmt.Sprintf("%s%d", base, i))
		}
	}
	return out
}

// literals are the constants worth trying as inputs.
type literals struct {
	bounds []constant.Value // constants the function compares against: each and its neighbours
	source []constant.Value // the function's other literals
	tests  []constant.Value // literals of the package's tests that mention the function
}

// literals collects them for fd, at most eight of each.
func (p *pkgInfo) literals(fd *ast.FuncDecl) literals {
	var l literals
	if fd.Body == nil {
		return l
	}
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if n.Op == token.LSS || n.Op == token.GTR || n.Op == token.LEQ || n.Op == token.GEQ || n.Op == token.EQL || n.Op == token.NEQ {
				l.bounds = append(l.bounds, p.constant(n.X), p.constant(n.Y))
			}
		case *ast.CaseClause:
			for _, e := range n.List {
				l.bounds = append(l.bounds, p.constant(e))
			}
		case *ast.BasicLit:
			l.source = append(l.source, literal(n))
		}
		return true
	})
	for _, f := range p.tests {
		for _, d := range f.Decls {
			if td, ok := d.(*ast.FuncDecl); ok && td.Body != nil && mentions(td.Body, fd.Name.Name) {
				ast.Inspect(td.Body, func(n ast.Node) bool {
					if lit, ok := n.(*ast.BasicLit); ok && !formatString(lit) {
						l.tests = append(l.tests, literal(lit))
					}
					return true
				})
			}
		}
	}
	l.bounds, l.source, l.tests = distinct(l.bounds, 8), distinct(l.source, 8), distinct(l.tests, 8)
	return l
}

func (p *pkgInfo) constant(e ast.Expr) constant.Value {
	if tv, ok := p.info.Types[e]; ok {
		return tv.Value
	}
	return nil
}

func literal(lit *ast.BasicLit) constant.Value {
	return constant.MakeFromLiteral(lit.Value, lit.Kind, 0)
}

// formatString: a test's messages ("got %v, want %v") are not inputs.
func formatString(lit *ast.BasicLit) bool {
	return lit.Kind == token.STRING && strings.ContainsAny(lit.Value, "%\n")
}

func mentions(body ast.Node, name string) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && id.Name == name {
			found = true
		}
		return !found
	})
	return found
}

// distinct drops unknown and repeated constants and keeps the first max.
func distinct(vs []constant.Value, max int) []constant.Value {
	seen := map[string]bool{}
	var out []constant.Value
	for _, v := range vs {
		if v == nil || v.Kind() == constant.Unknown || len(out) == max {
			continue
		}
		key := v.Kind().String() + v.ExactString()
		if !seen[key] {
			seen[key] = true
			out = append(out, v)
		}
	}
	return out
}
