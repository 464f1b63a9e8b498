package testgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Bounds on the work one run does.
const (
	defaultMaxTargets = 20
	maxChangedFuncs   = 200 // changed functions whose packages are measured
	maxStyleLines     = 80
)

// FindTargets returns the functions changed between base and head whose
// changed lines no existing test covers. It measures coverage with the go
// command in a scratch worktree of head, so the user's working tree is
// untouched and head can be any commit.
func FindTargets(ctx context.Context, repoDir, base, head string) ([]Target, error) {
	baseSHA, err := resolveCommit(ctx, repoDir, base)
	if err != nil {
		return nil, err
	}
	headSHA, err := resolveCommit(ctx, repoDir, head)
	if err != nil {
		return nil, err
	}
	tree, cleanup, err := checkout(ctx, repoDir, headSHA)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	f, err := findInTree(ctx, FilterConfig{}.toolchain(), repoDir, tree, baseSHA, headSHA, defaultMaxTargets, io.Discard)
	if err != nil {
		return nil, err
	}
	return f.targets, nil
}

// found is what the search for targets learnt: every changed function,
// the uncovered ones (the targets), and the coverage measured before any
// candidate.
type found struct {
	changed  []Target
	targets  []Target
	baseline Coverage
}

// findInTree finds the targets in tree, a checkout of head.
func findInTree(ctx context.Context, tc toolchain, repo, tree, base, head string, maxTargets int, progress io.Writer) (found, error) {
	out, err := gitOutput(ctx, repo, "diff", "--unified=0", "--no-color", "--no-ext-diff", base+"..."+head, "--", "*.go")
	if err != nil {
		return found{}, fmt.Errorf("changed lines: %w", err)
	}
	changed, err := changedFuncs(tree, parseDiff(out))
	if err != nil {
		return found{}, err
	}
	if len(changed) > maxChangedFuncs {
		changed = changed[:maxChangedFuncs]
	}
	if err := describePackages(ctx, tc, tree, changed); err != nil {
		return found{}, err
	}
	fmt.Fprintf(progress, "testgen: %d changed functions; measuring their packages' coverage\n", len(changed))
	cov, err := baselineCoverage(ctx, tc, tree, changed)
	if err != nil {
		return found{}, err
	}
	targets := withUncovered(changed, cov)
	if len(targets) > maxTargets {
		targets = targets[:maxTargets]
	}
	for _, t := range targets {
		fmt.Fprintf(progress, "testgen: target %s.%s (%s): %d of %d changed lines uncovered\n", t.Package, t.Func, t.File, len(t.Uncovered), len(t.Changed))
	}
	return found{changed: changed, targets: targets, baseline: cov}, nil
}

// parseDiff reads `git diff --unified=0` output: the lines each file has
// at head that it did not have at base.
func parseDiff(out []byte) map[string][]int {
	lines := map[string][]int{}
	var file string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "+++ "):
			file = diffPath(strings.TrimPrefix(l, "+++ "))
		case strings.HasPrefix(l, "@@ ") && file != "":
			start, n, ok := hunkNew(l)
			for i := range n {
				if ok {
					lines[file] = append(lines[file], start+i)
				}
			}
		}
	}
	return lines
}

// diffPath is the head side's path of a "+++" line: "" for a deleted file.
func diffPath(p string) string {
	if strings.HasPrefix(p, `"`) {
		if u, err := strconv.Unquote(p); err == nil {
			p = u
		}
	}
	if p == "/dev/null" {
		return ""
	}
	return strings.TrimPrefix(p, "b/")
}

// hunkNew reads "@@ -a,b +c,d @@": the hunk's first line at head and how
// many lines it has there (d defaults to 1).
func hunkNew(l string) (start, n int, ok bool) {
	fields := strings.Fields(l)
	if len(fields) < 3 || !strings.HasPrefix(fields[2], "+") {
		return 0, 0, false
	}
	s, c, hasCount := strings.Cut(fields[2][1:], ",")
	start, err := strconv.Atoi(s)
	if err != nil {
		return 0, 0, false
	}
	n = 1
	if hasCount {
		if n, err = strconv.Atoi(c); err != nil {
			return 0, 0, false
		}
	}
	return start, n, true
}

// goSource says whether a path is a Go file a target can be in: not a
// test, not vendored, not test data, not a directory the go tool ignores.
func goSource(p string) bool {
	if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
		return false
	}
	for _, el := range strings.Split(path.Dir(p), "/") {
		if el == "vendor" || el == "testdata" || (el != "." && (strings.HasPrefix(el, ".") || strings.HasPrefix(el, "_"))) {
			return false
		}
	}
	return true
}

// changedFuncs parses each changed Go file of tree and returns the
// functions holding changed lines, in file and line order.
func changedFuncs(tree string, changed map[string][]int) ([]Target, error) {
	files := make([]string, 0, len(changed))
	for f := range changed {
		if goSource(f) {
			files = append(files, f)
		}
	}
	sort.Strings(files)
	var out []Target
	for _, f := range files {
		ts, err := funcsIn(tree, f, changed[f])
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	return out, nil
}

// funcsIn returns the functions of file (relative to tree) that hold any
// of lines. Generated files hold none: their tests belong to the generator.
func funcsIn(tree, file string, lines []int) ([]Target, error) {
	src, err := os.ReadFile(filepath.Join(tree, filepath.FromSlash(file)))
	if err != nil {
		return nil, fmt.Errorf("read changed file: %w", err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, nil //nolint:nilerr // a file that does not parse has no functions to test; go test says why
	}
	if ast.IsGenerated(f) {
		return nil, nil
	}
	tf := fset.File(f.Pos())
	var out []Target
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		// Lines as in the file, as the diff counts them, not as //line
		// directives say.
		from, to := fset.PositionFor(fd.Pos(), false).Line, fset.PositionFor(fd.End(), false).Line
		var in []int
		for _, l := range lines {
			if l >= from && l <= to {
				in = append(in, l)
			}
		}
		if len(in) == 0 {
			continue
		}
		start := fd.Pos()
		if fd.Doc != nil {
			start = fd.Doc.Pos() // the doc says what the function is for: the generator needs it
		}
		out = append(out, Target{
			Dir:       path.Dir(file),
			Package:   f.Name.Name,
			Func:      FuncName(fd),
			File:      file,
			Signature: strings.TrimSpace(string(src[tf.Offset(fd.Pos()):tf.Offset(fd.Body.Lbrace)])),
			Source:    string(src[tf.Offset(start):tf.Offset(fd.End())]),
			Changed:   in,
		})
	}
	return out, nil
}

// FuncName is "Name", or "Recv.Name" for a method (pointer or not, type
// parameters dropped): how a Target names its function.
func FuncName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
			continue
		case *ast.IndexExpr:
			t = x.X
			continue
		case *ast.IndexListExpr:
			t = x.X
			continue
		case *ast.ParenExpr:
			t = x.X
			continue
		case *ast.Ident:
			return x.Name + "." + fd.Name.Name
		}
		return fd.Name.Name
	}
}

// describePackages fills each target's import path (go list) and style
// excerpt, once per package directory.
func describePackages(ctx context.Context, tc toolchain, tree string, targets []Target) error {
	type pkg struct{ importPath, style string }
	seen := map[string]pkg{}
	for i, t := range targets {
		p, ok := seen[t.Dir]
		if !ok {
			dir := filepath.Join(tree, filepath.FromSlash(t.Dir))
			out, err := tc.run(ctx, dir, stepTimeout, "go", "list", "-e", "-f", "{{.ImportPath}}", ".")
			if err != nil {
				return fmt.Errorf("go list %s: %w: %s", t.Dir, err, excerpt(out, tree))
			}
			p = pkg{importPath: strings.TrimSpace(string(out)), style: styleExcerpt(dir)}
			seen[t.Dir] = p
		}
		targets[i].ImportPath, targets[i].Style = p.importPath, p.style
	}
	return nil
}

// styleExcerpt is the start of the package's first test file, so that
// generated tests can follow the package's helpers and table style.
func styleExcerpt(dir string) string {
	tests, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	slices.Sort(tests)
	for _, f := range tests {
		data, err := os.ReadFile(f)
		if err != nil || len(data) == 0 {
			continue
		}
		lines := strings.SplitAfter(string(data), "\n")
		if len(lines) > maxStyleLines {
			lines = lines[:maxStyleLines]
		}
		return "// " + filepath.Base(f) + "\n" + strings.Join(lines, "")
	}
	return ""
}
