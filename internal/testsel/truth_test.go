package testsel_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/testsel"
)

// listed is what `go list -e -test -json` says of one package or test
// variant.
type listed struct {
	ImportPath, Dir                 string
	GoFiles, CgoFiles, EmbedFiles   []string
	TestGoFiles, XTestGoFiles       []string
	TestEmbedFiles, XTestEmbedFiles []string
	Deps                            []string
	ForTest                         string
	Module                          *struct{ Path, Dir string }
	Incomplete                      bool
	Error                           *struct{ Err string }
}

// truth is the go command's answer for one commit: which packages' test
// binaries a change reaches.
type truth struct {
	packages map[string]*listed  // non-test variants, by import path
	tests    map[string][]string // "P" → the deps of P.test (test variants stripped to their path)
}

// goList runs the go command in dir on patterns (the test may; ferry may
// not).
func goList(t *testing.T, dir string, patterns ...string) (truth, error) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-e", "-test", "-json"}, patterns...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if _, err := os.Stat(filepath.Join(dir, "go.work")); err != nil {
		cmd.Env = append(cmd.Env, "GOFLAGS=-mod=mod") // workspaces refuse it
	}
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return truth{}, fmt.Errorf("go list in %s: %v: %s", dir, err, stderr.String())
	}
	tr := truth{packages: map[string]*listed{}, tests: map[string][]string{}}
	dec := json.NewDecoder(&out)
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return truth{}, err
		}
		switch {
		case strings.HasSuffix(p.ImportPath, ".test"):
			var deps []string
			for _, d := range p.Deps {
				d, _, _ = strings.Cut(d, " ")
				deps = append(deps, d)
			}
			tr.tests[strings.TrimSuffix(p.ImportPath, ".test")] = deps
		case p.ForTest == "" && !strings.Contains(p.ImportPath, " "):
			tr.packages[p.ImportPath] = &p
		}
	}
	return tr, nil
}

// affected is the go command's answer to "whose tests can observe these
// changed files (relative to root)": every test binary that depends on a
// package whose compiled files changed, and the package whose test files
// or testdata changed. all: a go.mod or go.sum changed.
func (tr truth) affected(root string, changed []string) (set map[string]bool, all bool) {
	code, tests := map[string]bool{}, map[string]bool{}
	for _, f := range changed {
		switch filepath.Base(f) {
		case "go.mod", "go.sum", "go.work", "go.work.sum":
			return nil, true
		}
		abs := filepath.Join(root, f)
		for ip, p := range tr.packages {
			rel, err := filepath.Rel(p.Dir, abs)
			if err != nil || strings.HasPrefix(rel, "..") {
				continue
			}
			rel = filepath.ToSlash(rel)
			switch {
			case slices.Contains(p.GoFiles, rel) || slices.Contains(p.CgoFiles, rel) || slices.Contains(p.EmbedFiles, rel):
				code[ip] = true
			case slices.Contains(p.TestGoFiles, rel) || slices.Contains(p.XTestGoFiles, rel) ||
				slices.Contains(p.TestEmbedFiles, rel) || slices.Contains(p.XTestEmbedFiles, rel) || strings.HasPrefix(rel, "testdata/"):
				tests[ip] = true
			}
		}
	}
	set = map[string]bool{}
	for p, deps := range tr.tests {
		if code[p] || tests[p] || slices.ContainsFunc(deps, func(d string) bool { return code[d] }) {
			set[p] = true
		}
	}
	return set, false
}

// compare checks ferry's selection for base..head of the repository at
// dir (checked out at head) against the go command's: it returns the
// packages ferry missed and the fraction of packages it selected.
func compare(t *testing.T, dir, base, head string, patterns ...string) (missed []string, fraction float64, sel testsel.Selection) {
	t.Helper()
	repo, err := git.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, err := repo.Resolve(head)
	if err != nil {
		t.Fatal(err)
	}
	b, err := repo.Resolve(base)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := repo.Tree(h)
	if err != nil {
		t.Fatal(err)
	}
	changed, err := repo.ChangedPaths(b, h)
	if err != nil {
		t.Fatal(err)
	}
	sel = testsel.SelectGo(tree, changed)
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	tr, err := goList(t, dir, patterns...)
	if err != nil {
		t.Fatal(err)
	}
	want, all := tr.affected(dir, changed)
	if all && !sel.All {
		return []string{"everything (a build file changed)"}, 0, sel
	}
	chosen := map[string]bool{}
	for _, p := range sel.Packages() {
		chosen[p] = true
	}
	for p := range want {
		if !chosen[p] {
			missed = append(missed, p)
		}
	}
	slices.Sort(missed)
	if sel.Total > 0 {
		fraction = float64(len(sel.Targets)) / float64(sel.Total)
	}
	return missed, fraction, sel
}
