package testagent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ferry-ci/ferry/internal/llm"

	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/gentest"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/testgen"
)

// generateTimeout bounds reading the trees and generating (the job's own
// timeout is longer).
const generateTimeout = 3 * time.Minute

// candidates reads pr with git, finds its targets, has the generator write
// candidates and keeps those that pass Vet. note says why there are none.
func (w *Writer) candidates(ctx context.Context, r Repo, pr forge.PullRequest) ([]gentest.Candidate, gentest.Usage, string, error) {
	ctx, cancel := context.WithTimeout(ctx, generateTimeout)
	defer cancel()
	user, pass, err := w.deps.GitHub(r.InstallationID).GitCredentials(ctx)
	if err != nil {
		return nil, gentest.Usage{}, "", err
	}
	dir, err := os.MkdirTemp("", "ferry-tests-")
	if err != nil {
		return nil, gentest.Usage{}, "", err
	}
	defer os.RemoveAll(dir)
	var targets []testgen.Target
	exists := map[string]bool{}
	gp := git.PullRequest{URL: r.CloneURL, Username: user, Password: pass, Number: pr.Number, BaseRef: pr.BaseRef, HeadSHA: pr.HeadSHA}
	err = w.deps.Git.PullRequestTree(ctx, strconv.FormatInt(r.ID, 10), gp, func(head, base *git.Tree, changed []string) error {
		targets = Targets(head, base, changed)
		for _, p := range head.Paths() {
			exists[p] = true
		}
		return materialize(head, targets, dir)
	})
	if err != nil {
		return nil, gentest.Usage{}, "", fmt.Errorf("read #%d with git: %w", pr.Number, err)
	}
	if len(targets) == 0 {
		return nil, gentest.Usage{}, fmt.Sprintf("#%d changes no Go function ferry can write tests for", pr.Number), nil
	}
	got, usage, err := w.generate(ctx, r, dir, targets)
	if err != nil {
		return nil, usage, "", err
	}
	cands, rejected := vet(got, targets, func(p string) bool { return exists[p] })
	for _, why := range rejected {
		w.cfg.Logger.InfoContext(ctx, "generated test rejected", "why", why)
	}
	if len(cands) == 0 {
		return nil, usage, fmt.Sprintf("no test written for the %d changed functions passed ferry's checks (%d rejected)", len(targets), len(rejected)), nil
	}
	return cands, usage, "", nil
}

// generate asks the run's generator, through a meter when there is a
// model; targets it passed over are logged, the rest goes on.
func (w *Writer) generate(ctx context.Context, r Repo, dir string, targets []testgen.Target) ([]testgen.Candidate, gentest.Usage, error) {
	var m *meter
	var model testgen.Model
	if w.deps.Model != nil {
		m = &meter{inner: w.deps.Model, budget: r.LLMBudget}
		model = m
	}
	got, err := w.deps.Generator(r.InstallationID, model).Generate(ctx, dir, targets)
	if skipped := (*testgen.SkippedError)(nil); errors.As(err, &skipped) {
		w.cfg.Logger.InfoContext(ctx, "generator skipped targets", "skipped", len(skipped.Skips), "err", err)
		err = nil
	}
	if m == nil {
		return got, gentest.Usage{}, err
	}
	return got, m.usage(), err
}

// meter sums what one run's questions cost (cached answers cost nothing).
type meter struct {
	inner  testgen.Model
	budget int64 // the policy's, when the request names none
	mu     sync.Mutex
	u      gentest.Usage
}

func (m *meter) Model(t llm.Tier) string { return m.inner.Model(t) }

func (m *meter) Ask(ctx context.Context, req llm.Request) (llm.Answer, error) {
	if req.Budget == 0 {
		req.Budget = m.budget
	}
	a, err := m.inner.Ask(ctx, req)
	if err == nil && !a.Cached {
		m.mu.Lock()
		m.u.Model = a.Model
		m.u.PromptTokens += a.Usage.PromptTokens
		m.u.CompletionTokens += a.Usage.CompletionTokens
		m.mu.Unlock()
	}
	return a, err
}

func (m *meter) usage() gentest.Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.u.Model == "" {
		m.u.Model = m.inner.Model(llm.Strong)
	}
	return m.u
}

// Bounds on the sources written for the generator to read.
const (
	maxPackageFiles = 200
	maxWrittenBytes = 16 << 20
)

// materialize writes the targets' packages' Go files from the tree under
// dir, for a generator to read (parse and type-check; nothing is run).
func materialize(head *git.Tree, targets []testgen.Target, dir string) error {
	want := map[string]bool{}
	for _, t := range targets {
		want[t.Dir] = true
	}
	written, total := map[string]int{}, 0
	for _, p := range head.Paths() {
		d := path.Dir(p)
		if !want[d] || !strings.HasSuffix(p, ".go") || written[d] == maxPackageFiles || !filepath.IsLocal(p) {
			continue
		}
		data, err := head.Read(p)
		if err != nil || len(data) > maxTargetBytes || total+len(data) > maxWrittenBytes {
			continue
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			return err
		}
		written[d]++
		total += len(data)
	}
	return nil
}

// vet keeps candidates that test a target, in its package's directory,
// with names and files unique, at most MaxCandidates.
func vet(got []testgen.Candidate, targets []testgen.Target, exists func(string) bool) ([]gentest.Candidate, []string) {
	// A function's name may be changed in two packages (Parse in a/ and
	// b/): the candidate's directory says which it tests.
	dirs, pkgs := map[string]string{}, map[string]string{}
	for _, t := range targets {
		dirs[t.Func], pkgs[t.Func+"\x00"+t.Dir] = t.Dir, t.ImportPath
	}
	var out []gentest.Candidate
	var rejected []string
	names, files := map[string]bool{}, map[string]bool{}
	for _, c := range got {
		g := gentest.Candidate{Name: c.Name, File: c.File, Source: c.Source, Origin: c.Origin, Target: c.Target, Kept: true}
		dir, known := dirs[c.Target]
		if pkg, ok := pkgs[c.Target+"\x00"+path.Dir(c.File)]; ok {
			dir, g.Package = path.Dir(c.File), pkg
		}
		var err error
		switch {
		case len(out) == gentest.MaxCandidates:
			err = fmt.Errorf("more than %d candidates", gentest.MaxCandidates)
		case !known:
			err = fmt.Errorf("%q tests no changed function", c.Target)
		case names[c.Name+"\x00"+dir] || files[c.File]:
			err = fmt.Errorf("%s or %s proposed twice", c.Name, c.File)
		default:
			err = gentest.Vet(g, dir, exists)
		}
		if err != nil {
			rejected = append(rejected, fmt.Sprintf("%.100q: %v", c.Name, err))
			continue
		}
		names[c.Name+"\x00"+dir], files[c.File] = true, true
		out = append(out, g)
	}
	return out, rejected
}
