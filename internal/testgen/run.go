package testgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"strings"
	"time"
)

// Options is one run of Generate.
type Options struct {
	Repo      string // the git repository; its working tree is never touched
	Base      string // what the change is compared with
	Head      string // the change's last commit
	Generator Generator
	Filter    FilterConfig
	Progress  io.Writer     // a line per step of long work; nil for none
	Timeout   time.Duration // the whole run (default 10m)
	// MaxTargets bounds the functions handed to the generator (default 20).
	MaxTargets int
}

// Generate finds the changed functions of head whose changed lines no test
// covers, asks the generator for tests, and keeps the candidates that pass
// the filter. It works in a scratch worktree of head, removed before it
// returns.
func Generate(ctx context.Context, o Options) (Report, error) {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.MaxTargets <= 0 {
		o.MaxTargets = defaultMaxTargets
	}
	if o.Generator == nil {
		return Report{}, errors.New("testgen: no generator")
	}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	base, err := resolveCommit(ctx, o.Repo, o.Base)
	if err != nil {
		return Report{}, err
	}
	head, err := resolveCommit(ctx, o.Repo, o.Head)
	if err != nil {
		return Report{}, err
	}
	tree, cleanup, err := checkout(ctx, o.Repo, head)
	if err != nil {
		return Report{}, err
	}
	defer cleanup()
	fmt.Fprintf(progress, "testgen: %s..%s checked out in a scratch worktree\n", short(base), short(head))
	tc := o.Filter.toolchain()
	found, err := findInTree(ctx, tc, o.Repo, tree, base, head, o.MaxTargets, progress)
	if err != nil {
		return Report{}, err
	}
	rep := newReport(base, head, found)
	if len(found.targets) == 0 {
		return rep, nil
	}
	cands, err := o.Generator.Generate(ctx, tree, found.targets)
	var skippedTargets *SkippedError
	switch {
	case errors.As(err, &skippedTargets):
		// Targets a generator could not serve (no model, budget spent, an
		// invalid answer) are reported; the others go on.
		rep.skip(skippedTargets.Skips, progress)
	case err != nil:
		return Report{}, fmt.Errorf("generate tests for %d targets: %w", len(found.targets), err)
	}
	fmt.Fprintf(progress, "testgen: %d candidates from the generator\n", len(cands))
	results, race, err := filterAll(ctx, o.Filter, tree, found, cands, progress)
	if err != nil {
		return Report{}, err
	}
	rep.add(results, race)
	return rep, nil
}

// filterAll evaluates the candidates one by one, within the candidate
// limit and the time left.
func filterAll(ctx context.Context, cfg FilterConfig, tree string, found found, cands []Candidate, progress io.Writer) ([]Result, bool, error) {
	f, err := NewFilter(ctx, cfg, tree, found.targets, found.baseline)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	var results []Result
	kept := map[string]bool{} // package directory + "." + test name
	for i, c := range cands {
		switch {
		case i >= f.cfg.MaxCandidates:
			results = append(results, skipped(c, fmt.Sprintf("over the limit of %d candidates", f.cfg.MaxCandidates)))
		case ctx.Err() != nil:
			results = append(results, skipped(c, "the run's time budget was spent"))
		case kept[path.Dir(c.File)+"."+c.Name]:
			// Each was judged alone; together they would not compile.
			results = append(results, Result{Candidate: c, Stage: StageCompile, Reason: "a kept test of this package has the same name"})
		default:
			fmt.Fprintf(progress, "testgen: candidate %d/%d %s (%s)\n", i+1, len(cands), c.Name, c.Origin)
			r := f.Evaluate(ctx, c)
			if r.Kept() {
				kept[path.Dir(c.File)+"."+c.Name] = true
			}
			fmt.Fprintf(progress, "testgen:   %s\n", r.verdict())
			results = append(results, r)
		}
	}
	return results, f.Race(), nil
}

func skipped(c Candidate, why string) Result {
	return Result{Candidate: c, Stage: StageSkipped, Reason: why}
}

// toolchain runs the go command with the configured environment.
type toolchain struct {
	goBin string
	env   []string
}

func (cfg FilterConfig) toolchain() toolchain {
	goBin := cfg.Go
	if goBin == "" {
		goBin = "go"
	}
	env := toolEnv(os.Environ())
	if os.Getenv("GORACE") == "" {
		// The race detector otherwise sleeps a second at every exit: a
		// second per run and per mutant.
		env = append(env, "GORACE=atexit_sleep_ms=0")
	}
	return toolchain{goBin: goBin, env: append(env, cfg.Env...)}
}

// toolEnv is the environment candidates run in: what the go command and
// a C compiler need, and nothing else — a token in the user's shell is not
// a generated test's business (defence in depth: model tests import no os).
func toolEnv(environ []string) []string {
	keep := map[string]bool{"PATH": true, "HOME": true, "USER": true, "TMPDIR": true, "LANG": true, "LC_ALL": true,
		"XDG_CACHE_HOME": true, "XDG_CONFIG_HOME": true, "CC": true, "CXX": true, "HTTP_PROXY": true, "HTTPS_PROXY": true,
		"NO_PROXY": true, "http_proxy": true, "https_proxy": true, "no_proxy": true, "SSL_CERT_FILE": true, "SSL_CERT_DIR": true}
	var out []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if keep[k] || strings.HasPrefix(k, "GO") || strings.HasPrefix(k, "CGO_") {
			out = append(out, kv)
		}
	}
	return out
}

// run runs name (the go command when name is "go") in dir and returns its
// combined output; the step ends at timeout.
func (tc toolchain) run(ctx context.Context, dir string, timeout time.Duration, name string, args ...string) ([]byte, error) {
	if name == "go" {
		name = tc.goBin
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = tc.env
	cmd.WaitDelay = 5 * time.Second // a child holding the pipe open must not hang us
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s: %w", timeout, ctx.Err())
	}
	return out.Bytes(), err
}

// gitOutput runs git in dir and returns its standard output.
func gitOutput(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "core.quotepath=off"}, args...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// resolveCommit is the full SHA of ref.
func resolveCommit(ctx context.Context, repo, ref string) (string, error) {
	if ref == "" {
		return "", errors.New("resolve commit: empty ref")
	}
	out, err := gitOutput(ctx, repo, "rev-parse", "--verify", "--end-of-options", ref+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("resolve %q: %w", ref, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// checkout adds a detached worktree of commit in a temporary directory, so
// the user's working tree stays as it is and head can be any commit. The
// cleanup runs even after ctx is done.
func checkout(ctx context.Context, repo, commit string) (string, func(), error) {
	tmp, err := os.MkdirTemp("", "ferry-testgen-")
	if err != nil {
		return "", nil, fmt.Errorf("scratch worktree: %w", err)
	}
	tree := tmp + string(os.PathSeparator) + "tree"
	cleanup := func() {
		_, _ = gitOutput(context.WithoutCancel(ctx), repo, "worktree", "remove", "--force", tree)
		_ = os.RemoveAll(tmp)
		_, _ = gitOutput(context.WithoutCancel(ctx), repo, "worktree", "prune")
	}
	if _, err := gitOutput(ctx, repo, "worktree", "add", "--detach", "--quiet", tree, commit); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("scratch worktree of %s: %w", short(commit), err)
	}
	return tree, cleanup, nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// excerpt keeps a command's output short enough for a report: the start
// (where compile errors are) and the end (where a failing run says why).
func excerpt(out []byte, tree string) string {
	s := strings.TrimSpace(string(out))
	if tree != "" {
		s = strings.ReplaceAll(s, tree+string(os.PathSeparator), "")
	}
	const head, tail = 2000, 800
	if len(s) > head+tail+100 {
		s = s[:head] + "\n…\n" + s[len(s)-tail:]
	}
	return s
}

// skip reports the targets a generator could not serve, and why.
func (r *Report) skip(skips []Skip, progress io.Writer) {
	for _, sk := range skips {
		why := sk.Reason
		if sk.Err != nil {
			why += ": " + sk.Err.Error()
		}
		r.Skipped = append(r.Skipped, SkippedTarget{Target: sk.Target, Reason: why})
		fmt.Fprintf(progress, "testgen: no candidates for %s: %s\n", sk.Target, why)
	}
}
