package testgen

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"strings"
)

// packages reads each package directory once per Generate.
type packages map[string]*pkgInfo

// pkgInfo is a package parsed and type-checked without its imports: enough
// to know which parameters are of basic types and what constants the code
// compares against, in milliseconds (loading the imports from source
// would take seconds).
type pkgInfo struct {
	fset  *token.FileSet
	files []*ast.File // the package's files for this platform, tests excluded
	tests []*ast.File // its _test.go files, both packages
	info  *types.Info
}

// basicFunc finds the target's declaration; nil when it is a method, is
// generic, is not exported, or takes or returns anything but basic types.
func (p packages) basicFunc(repo string, t Target) (*basicFunc, error) {
	if strings.Contains(t.Func, ".") || !token.IsExported(t.Func) {
		return nil, nil
	}
	dir := filepath.Join(repo, filepath.FromSlash(t.Dir))
	pkg, ok := p[dir]
	if !ok {
		var err error
		if pkg, err = loadPackage(dir, t.ImportPath); err != nil {
			return nil, err
		}
		p[dir] = pkg
	}
	for _, f := range pkg.files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == t.Func {
				return pkg.basicFunc(fd), nil
			}
		}
	}
	return nil, nil
}

func loadPackage(dir, importPath string) (*pkgInfo, error) {
	bp, err := build.ImportDir(dir, 0)
	if err != nil {
		return nil, fmt.Errorf("read package %s: %w", dir, err)
	}
	p := &pkgInfo{fset: token.NewFileSet()}
	for _, name := range bp.GoFiles {
		f, err := parser.ParseFile(p.fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		p.files = append(p.files, f)
	}
	for _, name := range append(bp.TestGoFiles, bp.XTestGoFiles...) {
		// A test file that does not parse only costs its literals.
		if f, err := parser.ParseFile(p.fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution); err == nil {
			p.tests = append(p.tests, f)
		}
	}
	p.info = &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Defs: map[*ast.Ident]types.Object{}}
	// Imports are not loaded: what they declare is invalid here, which
	// only makes a parameter of an imported type ineligible. The errors
	// that follow are expected, so they are dropped.
	conf := types.Config{Importer: noImports{}, Error: func(error) {}}
	_, _ = conf.Check(importPath, p.fset, p.files, p.info)
	return p, nil
}

type noImports struct{}

func (noImports) Import(path string) (*types.Package, error) {
	return nil, fmt.Errorf("%s: imports are not loaded", path)
}

// basicFunc is a function whose parameters and results are all of basic
// types, with the constants that matter for choosing its inputs.
type basicFunc struct {
	name    string
	params  []basicVar
	results []basicVar
	lits    literals
}

func (p *pkgInfo) basicFunc(fd *ast.FuncDecl) *basicFunc {
	obj, ok := p.info.Defs[fd.Name].(*types.Func)
	if !ok || fd.Type.TypeParams != nil {
		return nil
	}
	sig := obj.Type().(*types.Signature)
	if sig.Variadic() {
		return nil
	}
	fn := &basicFunc{name: fd.Name.Name, lits: p.literals(fd)}
	for i := range sig.Params().Len() {
		v, ok := classify(sig.Params().At(i))
		if !ok || v.kind == kindError {
			return nil
		}
		fn.params = append(fn.params, v)
	}
	for i := range sig.Results().Len() {
		v, ok := classify(sig.Results().At(i))
		if !ok || (v.kind == kindError && i != sig.Results().Len()-1) {
			return nil
		}
		fn.results = append(fn.results, v)
	}
	return fn
}
