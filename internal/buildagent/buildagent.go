// Package buildagent proposes Dockerfile rewrites: it reads a repository's
// Dockerfiles at the tip of its default branch, keeps the rewrites that
// pass the dockerfile package's four checks, and opens or updates one
// ferry-owned pull request with one commit per Dockerfile. A rewrite
// declined by closing its pull request is not proposed again.
package buildagent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/dockerfile"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/render"
)

// Branch is ferry's branch for the rewrites.
const Branch = "ferry/optimize-dockerfiles"

// maxFiles bounds the Dockerfiles one run reads and rewrites: a
// repository's content is anyone's with write access.
const maxFiles = 25

// optimizeTimeout bounds one run (the job's own timeout is longer).
const optimizeTimeout = 3 * time.Minute

// GitHub is what the agent needs of GitHub.
type GitHub interface {
	GitCredentials(ctx context.Context) (user, password string, err error)
	Propose(ctx context.Context, owner, repo string, p forge.Proposal) (number int, created bool, err error)
	Proposals(ctx context.Context, owner, repo, branch, base string) ([]forge.PullRequest, error)
}

// Git reads a branch's history.
type Git interface {
	History(ctx context.Context, key string, r git.Remote, branch string, read func(*git.Repo) error) error
}

// Audit keeps the agent's decisions.
type Audit interface {
	RecordDecision(ctx context.Context, d audit.Decision, number int) error
}

// Deps are the agent's adapters.
type Deps struct {
	GitHub func(installationID int64) GitHub
	Git    Git
	Audit  Audit
}

// Config tunes the agent.
type Config struct {
	Logger *slog.Logger
	Now    func() time.Time
}

// Agent is the build agent.
type Agent struct {
	cfg    Config
	deps   Deps
	render *render.Renderer
}

// New makes an agent.
func New(cfg Config, deps Deps) (*Agent, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r, err := render.New()
	if err != nil {
		return nil, err
	}
	return &Agent{cfg: cfg, deps: deps, render: r}, nil
}

// Repo is a repository the agent works on.
type Repo struct {
	InstallationID, ID      int64
	Owner, Name             string
	DefaultBranch, CloneURL string
}

func (r Repo) fullName() string { return r.Owner + "/" + r.Name }

// Result is what a run did, for the reply.
type Result struct {
	Number    int    // the pull request, 0 when none
	Created   bool   // opened now (else updated)
	Files     int    // Dockerfiles read
	Rewritten int    // Dockerfiles rewritten
	Note      string // why nothing was proposed, for people
}

// rewrite is one Dockerfile's proven rewrite.
type rewrite struct {
	path   string
	before int
	rw     dockerfile.Rewrite
}

// Optimize reads the Dockerfiles (only only, when set) at the tip of the
// default branch and proposes the proven rewrites.
func (a *Agent) Optimize(ctx context.Context, r Repo, only, by string) (Result, error) {
	// Proving rewrites converts every target again per fix: bounded per
	// file by the dockerfile package, and here as a whole.
	ctx, cancel := context.WithTimeout(ctx, optimizeTimeout)
	defer cancel()
	gh := a.deps.GitHub(r.InstallationID)
	user, pass, err := gh.GitCredentials(ctx)
	if err != nil {
		return Result{}, err
	}
	var res Result
	var rws []rewrite
	var tip string
	err = a.deps.Git.History(ctx, strconv.FormatInt(r.ID, 10), git.Remote{URL: r.CloneURL, Username: user, Password: pass},
		r.DefaultBranch, func(g *git.Repo) error {
			c, err := g.Resolve("refs/heads/" + r.DefaultBranch)
			if err != nil {
				return fmt.Errorf("the tip of %s: %w", r.DefaultBranch, err)
			}
			tip = c.Hash.String()
			tree, err := g.Tree(c)
			if err != nil {
				return err
			}
			rws, res, err = a.rewrites(ctx, tree, only)
			return err
		})
	if err != nil || res.Note != "" {
		return res, err
	}
	return a.propose(ctx, gh, r, rws, res, tip, by)
}

// rewrites reads and rewrites the tree's Dockerfiles.
func (a *Agent) rewrites(ctx context.Context, tree *git.Tree, only string) ([]rewrite, Result, error) {
	var res Result
	paths := dockerfiles(tree.Paths(), only)
	if len(paths) == 0 {
		res.Note = "no Dockerfile in the default branch"
		if only != "" {
			res.Note = "no Dockerfile at " + only + " in the default branch"
		}
		return nil, res, nil
	}
	var out []rewrite
	findings := 0
	for _, p := range paths {
		data, err := tree.Read(p)
		if err != nil {
			return nil, res, err
		}
		f, err := dockerfile.Parse(data)
		if err != nil {
			a.cfg.Logger.InfoContext(ctx, "a Dockerfile ferry cannot read", "path", p, "err", err)
			continue
		}
		res.Files++
		o := dockerfile.Options{Context: tree.Context(path.Dir(p)), Name: path.Base(p)}
		before := len(dockerfile.Analyze(f, o))
		findings += before
		rw, err := dockerfile.Fix(ctx, f, o)
		if err != nil {
			return nil, res, err
		}
		if rw.Changed() && rw.Checks.OK() {
			out = append(out, rewrite{path: p, before: before, rw: rw})
		}
	}
	res.Rewritten = len(out)
	if len(out) == 0 {
		res.Note = fmt.Sprintf("nothing ferry may rewrite on its own in %d Dockerfiles (%d findings are suggestions: `ferry dockerfile` lists them)", res.Files, findings)
	}
	return out, res, nil
}

// dockerfiles lists a tree's Dockerfiles, sorted and bounded.
func dockerfiles(paths []string, only string) []string {
	var out []string
	for _, p := range paths {
		if (only == "" && dockerfile.IsDockerfile(p)) || (only != "" && p == path.Clean(strings.TrimPrefix(only, "/"))) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	if len(out) > maxFiles {
		out = out[:maxFiles]
	}
	return out
}

// digest names a set of rewrites: the same rewrites of the same files
// have the same digest.
func digest(rws []rewrite) string {
	h := sha256.New()
	for _, w := range rws {
		fmt.Fprintf(h, "%s\x00%s\x00", w.path, w.rw.Text)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// marker is how a body names its rewrites.
func marker(d string) string { return "<!-- ferry:dockerfile-rewrites " + d + " -->" }

func (a *Agent) propose(ctx context.Context, gh GitHub, r Repo, rws []rewrite, res Result, tip, by string) (Result, error) {
	d := digest(rws)
	prs, err := gh.Proposals(ctx, r.Owner, r.Name, Branch, r.DefaultBranch)
	if err != nil {
		return res, err
	}
	for _, pr := range prs {
		switch {
		case !strings.Contains(pr.Body, marker(d)):
		case pr.State == "open":
			// Already proposed as they are: nothing pushed again, no CI re-run.
			res.Number, res.Note = pr.Number, fmt.Sprintf("#%d proposes these rewrites already", pr.Number)
			return res, nil
		case !pr.Merged:
			res.Note = fmt.Sprintf("the same rewrites were proposed in #%d, which was closed: ferry does not propose them again", pr.Number)
			return res, nil
		}
	}
	v := render.DockerfileView{Digest: d}
	p := forge.Proposal{Branch: Branch, Base: r.DefaultBranch, Title: "ferry: faster Docker builds, smaller images"}
	for _, w := range rws {
		v.Files = append(v.Files, render.NewDockerfileFile(w.path, w.before, w.rw))
		rules := map[string]bool{}
		var names []string
		for _, fd := range w.rw.Applied {
			if !rules[fd.Rule] {
				rules[fd.Rule] = true
				names = append(names, fd.Rule)
			}
		}
		p.Commits = append(p.Commits, forge.ProposalCommit{Files: map[string]string{w.path: string(w.rw.Text)},
			Message: fmt.Sprintf("%s: %s\n\nProposed by ferry (%d changes), each checked: parses, converts to LLB, same image config, fewer findings.",
				w.path, strings.Join(names, ", "), len(w.rw.Applied))})
	}
	text, err := a.render.Dockerfile(v)
	if err != nil {
		return res, err
	}
	p.Body = forge.BodyStart + "\n" + text + "\n" + forge.BodyEnd
	// The intent, before the side effect: a retry finds the same decision.
	dec := audit.Decision{ID: "optimize-" + strconv.FormatInt(r.ID, 10) + "-" + d, At: a.cfg.Now(), RepositoryID: r.ID,
		Repository: r.fullName(), Subject: "branch:" + r.DefaultBranch + "@" + tip[:min(12, len(tip))], Kind: audit.KindOptimize,
		Actor: by, InputsDigest: d, Output: fmt.Sprintf("proposed rewrites of %d Dockerfiles", len(rws))}
	for _, w := range rws {
		for _, fd := range w.rw.Applied {
			dec.Reasons = append(dec.Reasons, audit.Reason{Rule: fd.Rule, Summary: fmt.Sprintf("%s:%d %s", w.path, fd.Line, fd.Message)})
		}
	}
	if err := a.deps.Audit.RecordDecision(ctx, dec, 0); err != nil {
		return res, err
	}
	res.Number, res.Created, err = gh.Propose(ctx, r.Owner, r.Name, p)
	return res, err
}
