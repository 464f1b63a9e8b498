package testgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The stages a candidate is dropped at, in the order it meets them.
// StageSkipped is a candidate never evaluated: over the limit or out of
// time.
const (
	StageCompile  = "compile"
	StagePass     = "pass"
	StageFlaky    = "flaky"
	StageCoverage = "coverage"
	StageMutants  = "mutants"
	StageSkipped  = "skipped"
)

// stageOrder lists the stages in order, for reports that count them.
var stageOrder = []string{StageCompile, StagePass, StageFlaky, StageCoverage, StageMutants, StageSkipped}

const stepTimeout = 2 * time.Minute

// FilterConfig sets how candidates are checked. The zero value is the
// default: the go on PATH, three runs, the race detector where available.
type FilterConfig struct {
	Go            string        // the go command (default "go")
	Runs          int           // runs in a row a candidate must pass (default 3)
	Race          string        // "auto" (default): -race where cgo and a C compiler are; "on"; "off"
	StepTimeout   time.Duration // one go command (default 2m)
	MaxCandidates int           // candidates evaluated, the rest skipped (default 30)
	MaxMutants    int           // mutants per target (default 12)
	Env           []string      // added to the go command's environment, e.g. GOWORK=off
}

func (cfg FilterConfig) withDefaults() FilterConfig {
	if cfg.Runs <= 0 {
		cfg.Runs = 3
	}
	if cfg.Race == "" {
		cfg.Race = "auto"
	}
	if cfg.StepTimeout <= 0 {
		cfg.StepTimeout = stepTimeout
	}
	if cfg.MaxCandidates <= 0 {
		cfg.MaxCandidates = 30
	}
	if cfg.MaxMutants <= 0 {
		cfg.MaxMutants = 12
	}
	return cfg
}

// Filter checks candidates one at a time against a checkout of head. Each
// candidate's file is written into the checkout for its checks and removed
// after; mutants reach the go command as overlays, so the checkout's own
// files are never changed.
type Filter struct {
	cfg      FilterConfig
	tc       toolchain
	tree     string
	work     string // binaries, profiles, overlays
	race     bool
	targets  []Target
	baseline Coverage
	mutants  map[string][]*mutantRun // by target key, made on first use
}

// mutantRun is a mutant and what is known about it.
type mutantRun struct {
	Mutant
	overlay string // the go command's -overlay file
	broken  bool   // it does not build: it counts for nothing
}

// Result is what the filter made of one candidate.
type Result struct {
	Candidate    Candidate
	Stage        string // "" when kept; otherwise the stage it was dropped at
	Reason       string
	Covered      []int    // uncovered changed lines of its target it covers
	Coverage     Coverage // what its runs covered, kept candidates only
	Killed       []string // the mutants it killed
	MutantsTotal int      // the target's mutants that build
}

// Kept says whether the candidate passed every stage.
func (r Result) Kept() bool { return r.Stage == "" }

// NewFilter prepares a filter for tree, a checkout of head holding the
// targets, whose existing tests covered baseline.
func NewFilter(ctx context.Context, cfg FilterConfig, tree string, targets []Target, baseline Coverage) (*Filter, error) {
	cfg = cfg.withDefaults()
	if cfg.Race != "auto" && cfg.Race != "on" && cfg.Race != "off" {
		return nil, fmt.Errorf("filter: race %q: want auto, on or off", cfg.Race)
	}
	// Overlay paths must match the go command's view of the files exactly.
	tree, err := filepath.EvalSymlinks(tree)
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	work, err := os.MkdirTemp("", "ferry-testgen-filter-")
	if err != nil {
		return nil, fmt.Errorf("filter scratch: %w", err)
	}
	f := &Filter{cfg: cfg, tc: cfg.toolchain(), tree: tree, work: work, targets: targets, baseline: baseline, mutants: map[string][]*mutantRun{}}
	f.race = cfg.Race == "on" || (cfg.Race == "auto" && f.raceAvailable(ctx))
	return f, nil
}

// Race says whether candidates run with the race detector.
func (f *Filter) Race() bool { return f.race }

// Close removes the filter's scratch files.
func (f *Filter) Close() error { return os.RemoveAll(f.work) }

// raceSupported is GOOS/GOARCH pairs where go test -race works.
var raceSupported = []string{"linux/amd64", "linux/arm64", "linux/ppc64le", "linux/s390x", "linux/loong64",
	"darwin/amd64", "darwin/arm64", "freebsd/amd64", "netbsd/amd64", "windows/amd64", "windows/arm64"}

// raceAvailable says whether -race can build here: cgo on, a C compiler
// found, a platform the detector supports.
func (f *Filter) raceAvailable(ctx context.Context) bool {
	out, err := f.tc.run(ctx, f.work, f.cfg.StepTimeout, "go", "env", "CGO_ENABLED", "CC", "GOOS", "GOARCH")
	if err != nil {
		return false
	}
	v := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(v) != 4 || v[0] != "1" || !slices.Contains(raceSupported, v[2]+"/"+v[3]) {
		return false
	}
	cc := strings.Fields(v[1])
	if len(cc) == 0 {
		return false
	}
	_, err = exec.LookPath(cc[0])
	return err == nil
}

// Evaluate takes one candidate through the stages: compile, pass its runs
// in a row, cover changed lines that were not, kill a mutant.
func (f *Filter) Evaluate(ctx context.Context, c Candidate) Result {
	r := Result{Candidate: c}
	t, err := f.validate(c)
	if err != nil {
		return r.drop(StageCompile, err.Error())
	}
	r.Candidate.Target = t.Func
	file := filepath.Join(f.tree, filepath.FromSlash(c.File))
	if err := os.WriteFile(file, []byte(c.Source), 0o644); err != nil {
		return r.drop(StageCompile, fmt.Sprintf("write %s: %v", c.File, err))
	}
	defer os.Remove(file)
	dir := filepath.Join(f.tree, filepath.FromSlash(t.Dir))
	bin := filepath.Join(f.work, "candidate.test")
	args := []string{"test", "-c", "-o", bin, "-cover", "-covermode=set"}
	if f.race {
		args = []string{"test", "-c", "-o", bin, "-cover", "-covermode=atomic", "-race"} // the only mode -race allows
	}
	if out, err := f.tc.run(ctx, dir, f.cfg.StepTimeout, "go", append(args, ".")...); err != nil {
		return r.drop(StageCompile, fmt.Sprintf("go test -c: %v\n%s", err, excerpt(out, f.tree)))
	}
	prof := filepath.Join(f.work, "candidate.cov")
	_ = os.Remove(prof)
	took, stage, why := f.runs(ctx, dir, bin, prof, c.Name)
	if stage != "" {
		return r.drop(stage, why)
	}
	cov, err := readProfile(prof)
	if err != nil {
		return r.drop(StageCoverage, err.Error())
	}
	ran := cov[profileName(*t)]
	for _, l := range t.Uncovered {
		if ran[l] {
			r.Covered = append(r.Covered, l)
		}
	}
	if len(r.Covered) == 0 {
		return r.drop(StageCoverage, fmt.Sprintf("covers none of %s's uncovered changed lines %v", t.Func, t.Uncovered))
	}
	return f.mutate(ctx, r, *t, dir, cov, took)
}

// verdict is the result in one line, for progress.
func (r Result) verdict() string {
	if r.Kept() {
		return fmt.Sprintf("kept: covers lines %v, killed %d of %d mutants", r.Covered, len(r.Killed), r.MutantsTotal)
	}
	first, _, _ := strings.Cut(r.Reason, "\n")
	return fmt.Sprintf("dropped at %s: %s", r.Stage, first)
}

func (r Result) drop(stage, reason string) Result {
	r.Stage, r.Reason, r.Coverage = stage, reason, nil
	return r
}

var testName = regexp.MustCompile(`^(Test|Fuzz)([A-Z0-9_][A-Za-z0-9_]*)?$`)

// validate finds the candidate's target and checks that it is one test
// function in a new test file of the target's package.
func (f *Filter) validate(c Candidate) (*Target, error) {
	if !testName.MatchString(c.Name) {
		return nil, fmt.Errorf("%q is not a test or fuzz function name", c.Name)
	}
	file := path.Clean(c.File)
	if !strings.HasSuffix(file, "_test.go") || path.IsAbs(file) || strings.HasPrefix(file, "../") || file != c.File {
		return nil, fmt.Errorf("%q is not a clean _test.go path inside the repository", c.File)
	}
	t := f.target(c.Target, path.Dir(file))
	if t == nil {
		return nil, fmt.Errorf("no target %q in package directory %s", c.Target, path.Dir(file))
	}
	if _, err := os.Lstat(filepath.Join(f.tree, filepath.FromSlash(file))); !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s already exists: a candidate adds a file, it does not replace one", file)
	}
	parsed, err := parser.ParseFile(token.NewFileSet(), file, c.Source, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if !slices.ContainsFunc(parsed.Decls, func(d ast.Decl) bool {
		fd, ok := d.(*ast.FuncDecl)
		return ok && fd.Recv == nil && fd.Name.Name == c.Name
	}) {
		return nil, fmt.Errorf("the file declares no function %s", c.Name)
	}
	return t, nil
}

// target is the target named name in dir; with no name, the only target
// in dir.
func (f *Filter) target(name, dir string) *Target {
	var match []*Target
	for i, t := range f.targets {
		if t.Dir == dir && (name == "" || t.Func == name) {
			match = append(match, &f.targets[i])
		}
	}
	if len(match) != 1 {
		return nil
	}
	return match[0]
}

// runs runs the candidate Runs times in one process and judges the runs:
// a failure on the first run is a test that does not pass; a failure on a
// later one, or failures that change from run to run, a flaky test. It
// returns how long the runs took.
func (f *Filter) runs(ctx context.Context, dir, bin, prof, name string) (time.Duration, string, string) {
	start := time.Now()
	// The test's own timeout comes first, so a hang says where it hangs.
	out, err := f.tc.run(ctx, dir, f.cfg.StepTimeout, bin, "-test.run=^"+name+"$", fmt.Sprintf("-test.count=%d", f.cfg.Runs),
		"-test.v", "-test.coverprofile="+prof, "-test.timeout="+(f.cfg.StepTimeout*9/10).String())
	took := time.Since(start)
	runs := parseRuns(out, name)
	detail := excerpt(out, f.tree)
	switch {
	case len(runs) == 0:
		return took, StagePass, fmt.Sprintf("no test %s ran: %v\n%s", name, err, detail)
	case runs[0].failed() && len(runs) == f.cfg.Runs && allSame(runs):
		return took, StagePass, fmt.Sprintf("fails:\n%s", detail)
	case runs[0].failed():
		return took, StageFlaky, fmt.Sprintf("failures differ between runs:\n%s", detail)
	case slices.ContainsFunc(runs, runResult.failed) || len(runs) < f.cfg.Runs:
		return took, StageFlaky, fmt.Sprintf("passed run 1, failed a later run of %d:\n%s", f.cfg.Runs, detail)
	case err != nil:
		// Every run passed, yet the process failed: a race report, an exit
		// from the test, a leak that TestMain checks.
		return took, StagePass, fmt.Sprintf("the test binary failed: %v\n%s", err, detail)
	}
	return took, "", ""
}

// runResult is one run of a test: the failing tests and subtests, none
// when it passed.
type runResult []string

func (r runResult) failed() bool { return len(r) > 0 }

func allSame(runs []runResult) bool {
	for _, r := range runs[1:] {
		if !slices.Equal(r, runs[0]) {
			return false
		}
	}
	return true
}

// parseRuns reads go test -v output for test name: one result per run. A
// run that started and never ended (a panic, a timeout) failed.
func parseRuns(out []byte, name string) []runResult {
	var runs []runResult
	var cur runResult
	open := false
	for _, l := range strings.Split(string(out), "\n") {
		trimmed := strings.TrimSpace(l)
		switch {
		case l == "=== RUN   "+name:
			if open {
				runs = append(runs, append(cur, name))
			}
			cur, open = nil, true
		case strings.HasPrefix(trimmed, "--- FAIL: "+name+"/"):
			sub, _, _ := strings.Cut(strings.TrimPrefix(trimmed, "--- FAIL: "), " ")
			cur = append(cur, sub)
		case strings.HasPrefix(l, "--- FAIL: "+name+" ") && open:
			runs, cur, open = append(runs, append(cur, name)), nil, false
		case (strings.HasPrefix(l, "--- PASS: "+name+" ") || strings.HasPrefix(l, "--- SKIP: "+name+" ")) && open:
			runs, cur, open = append(runs, cur), nil, false
		}
	}
	if open {
		runs = append(runs, append(cur, name))
	}
	for _, r := range runs {
		slices.Sort(r)
	}
	return runs
}

// readProfile parses the coverage profile a run wrote.
func readProfile(file string) (Coverage, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read the candidate's coverage profile: %w", err)
	}
	return ParseCoverage(bytes.NewReader(data))
}

// mutate runs the candidate against each mutant of its target on a line
// its runs executed; a candidate that fails on none checks nothing those
// lines do.
func (f *Filter) mutate(ctx context.Context, r Result, t Target, dir string, cov Coverage, took time.Duration) Result {
	ms, err := f.mutantsFor(ctx, t, dir)
	if err != nil {
		return r.drop(StageMutants, err.Error())
	}
	ran := cov[profileName(t)]
	// A mutant may loop forever; it has a few times the candidate's own
	// running time, and a test that times out fails, so kills it.
	timeout := min(f.cfg.StepTimeout, 10*time.Second+5*took)
	bin := filepath.Join(f.work, "mutant.test")
	for _, m := range ms {
		if m.broken {
			continue
		}
		r.MutantsTotal++
		if !ran[m.Line] {
			continue // a line the test never runs cannot tell the mutant from the original
		}
		_, err := f.tc.run(ctx, dir, f.cfg.StepTimeout, "go", "test", "-c", "-vet=off", "-o", bin, "-overlay", m.overlay, ".") // vetted as the candidate
		if ctx.Err() != nil {
			return r.drop(StageMutants, fmt.Sprintf("stopped before the mutants were run: %v", ctx.Err()))
		}
		if err != nil {
			// The package builds with it but its tests do not (a constant
			// a test uses): no test could run against it.
			m.broken = true
			r.MutantsTotal--
			continue
		}
		_, err = f.tc.run(ctx, dir, timeout, bin, "-test.run=^"+r.Candidate.Name+"$", "-test.count=1", "-test.timeout="+timeout.String())
		if ctx.Err() != nil {
			return r.drop(StageMutants, fmt.Sprintf("stopped while the mutants ran: %v", ctx.Err()))
		}
		if err != nil {
			r.Killed = append(r.Killed, fmt.Sprintf("%s:%d: %s", m.File, m.Line, m.Description))
		}
	}
	if len(r.Killed) == 0 {
		return r.drop(StageMutants, fmt.Sprintf("killed none of the %d mutants of %s's changed lines", r.MutantsTotal, t.Func))
	}
	r.Coverage = cov
	return r
}

// mutantsFor makes the target's mutants on first use and keeps those that
// build, each with its overlay.
func (f *Filter) mutantsFor(ctx context.Context, t Target, dir string) ([]*mutantRun, error) {
	key := t.File + "#" + t.Func
	if ms, ok := f.mutants[key]; ok {
		return ms, nil
	}
	file := filepath.Join(f.tree, filepath.FromSlash(t.File))
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read %s for mutants: %w", t.File, err)
	}
	made, err := Mutate(t.File, src, t.Changed, f.cfg.MaxMutants)
	if err != nil {
		return nil, err
	}
	var ms []*mutantRun
	for _, m := range made {
		n := len(f.mutants)*1000 + len(ms)
		mr := &mutantRun{Mutant: m, overlay: filepath.Join(f.work, fmt.Sprintf("mutant%d.json", n))}
		src := filepath.Join(f.work, fmt.Sprintf("mutant%d.go", n))
		ov, _ := json.Marshal(map[string]map[string]string{"Replace": {file: src}})
		if err := errors.Join(os.WriteFile(src, m.Source, 0o644), os.WriteFile(mr.overlay, ov, 0o644)); err != nil {
			return nil, fmt.Errorf("write mutant: %w", err)
		}
		_, err := f.tc.run(ctx, dir, f.cfg.StepTimeout, "go", "build", "-o", os.DevNull, "-overlay", mr.overlay, ".")
		if ctx.Err() != nil {
			return nil, fmt.Errorf("build mutants of %s: %w", t.Func, ctx.Err())
		}
		mr.broken = err != nil
		ms = append(ms, mr)
	}
	f.mutants[key] = ms
	return ms, nil
}
