package testgen

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
)

// Mutant is a copy of a file with one operator or boundary changed on a
// changed line. A test that fails against it checks what that line does.
type Mutant struct {
	File        string // relative to the repository root
	Line        int
	Description string // e.g. "< → <="
	Source      []byte // the whole mutated file
}

// swaps are the operator mutations: each relational operator to its
// boundary neighbour, equality to inequality, arithmetic and logic to
// their opposites.
var swaps = map[token.Token]token.Token{
	token.LSS: token.LEQ, token.LEQ: token.LSS,
	token.GTR: token.GEQ, token.GEQ: token.GTR,
	token.EQL: token.NEQ, token.NEQ: token.EQL,
	token.ADD: token.SUB, token.SUB: token.ADD,
	token.MUL:  token.QUO,
	token.LAND: token.LOR, token.LOR: token.LAND,
	token.ADD_ASSIGN: token.SUB_ASSIGN, token.SUB_ASSIGN: token.ADD_ASSIGN,
	token.MUL_ASSIGN: token.QUO_ASSIGN,
	token.INC:        token.DEC, token.DEC: token.INC,
}

// edit replaces src[off:off+n] with repl.
type edit struct {
	off, n int
	line   int
	repl   string
	desc   string
}

// Mutate returns up to max mutants of src (the file at file) whose change
// is on one of lines, spread over the lines: each line gives its first
// mutation before any line gives a second. Each mutant parses; whether it
// builds is for the go command to say.
func Mutate(file string, src []byte, lines []int, max int) ([]Mutant, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("mutate %s: %w", file, err)
	}
	byLine := map[int][]edit{}
	for _, e := range edits(fset, f, src) {
		if slices.Contains(lines, e.line) {
			byLine[e.line] = append(byLine[e.line], e)
		}
	}
	order := slices.Sorted(func(yield func(int) bool) {
		for l := range byLine {
			if !yield(l) {
				return
			}
		}
	})
	var out []Mutant
	for round := 0; len(out) < max; round++ {
		more := false
		for _, l := range order {
			if round >= len(byLine[l]) || len(out) >= max {
				continue
			}
			more = true
			if m, ok := apply(file, src, byLine[l][round]); ok {
				out = append(out, m)
			}
		}
		if !more {
			break
		}
	}
	return out, nil
}

// apply makes the mutant of one edit, if it still parses.
func apply(file string, src []byte, e edit) (Mutant, bool) {
	mutated := slices.Concat(src[:e.off], []byte(e.repl), src[e.off+e.n:])
	if _, err := parser.ParseFile(token.NewFileSet(), file, mutated, parser.SkipObjectResolution); err != nil {
		return Mutant{}, false
	}
	return Mutant{File: file, Line: e.line, Description: e.desc, Source: mutated}, true
}

// edits lists every mutation the file allows, in source order.
func edits(fset *token.FileSet, f *ast.File, src []byte) []edit {
	var out []edit
	at := func(pos token.Pos, old, repl, desc string) {
		p := fset.PositionFor(pos, false) // lines as in the file, not as //line directives say
		if desc == "" {
			desc = old + " → " + repl
		}
		// A sanity check that the token is where the tree says it is.
		if p.Offset+len(old) <= len(src) && string(src[p.Offset:p.Offset+len(old)]) == old {
			out = append(out, edit{off: p.Offset, n: len(old), line: p.Line, repl: repl, desc: desc})
		}
	}
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.GenDecl:
			return x.Tok == token.VAR // constants and types: changing them changes types, not behaviour under test
		case *ast.SelectorExpr:
			ast.Inspect(x.X, visit) // x.true is a field, not the constant
			return false
		case *ast.BinaryExpr:
			if to, ok := swaps[x.Op]; ok {
				at(x.OpPos, x.Op.String(), to.String(), "")
			}
		case *ast.AssignStmt:
			if to, ok := swaps[x.Tok]; ok {
				at(x.TokPos, x.Tok.String(), to.String(), "")
			}
		case *ast.IncDecStmt:
			at(x.TokPos, x.Tok.String(), swaps[x.Tok].String(), "")
		case *ast.UnaryExpr:
			if x.Op == token.NOT {
				at(x.OpPos, "!", "", "! removed")
			}
		case *ast.Ident:
			if x.Name == "true" || x.Name == "false" {
				at(x.Pos(), x.Name, strconv.FormatBool(x.Name != "true"), "")
			}
		case *ast.BasicLit:
			out = append(out, boundary(fset, x)...)
		}
		return true
	}
	ast.Inspect(f, visit)
	return out
}

// boundary moves an integer constant one up and one down.
func boundary(fset *token.FileSet, lit *ast.BasicLit) []edit {
	if lit.Kind != token.INT {
		return nil
	}
	v, err := strconv.ParseInt(lit.Value, 0, 64)
	if err != nil {
		return nil
	}
	p := fset.PositionFor(lit.Pos(), false)
	var out []edit
	for _, d := range []int64{1, -1} {
		repl := strconv.FormatInt(v+d, 10)
		if v+d < 0 {
			repl = "(" + repl + ")" // "x-0" must not become "x--1"
		}
		out = append(out, edit{off: p.Offset, n: len(lit.Value), line: p.Line, repl: repl, desc: lit.Value + " → " + repl})
	}
	return out
}
