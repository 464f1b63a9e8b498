package testagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/assessment"
	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/gentest"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/render"
	"github.com/ferry-ci/ferry/internal/testgen"
)

// WriterGitHub is what the writer changes on one installation's GitHub.
type WriterGitHub interface {
	GitCredentials(ctx context.Context) (user, password string, err error)
	PullRequest(ctx context.Context, owner, repo string, number int) (forge.PullRequest, error)
	// PushBranch moves the branch only from commit from ("" = only when
	// absent); github.ErrBranchTaken otherwise.
	PushBranch(ctx context.Context, owner, repo string, b forge.BranchCommit, from string) (string, error)
	OpenPull(ctx context.Context, owner, repo, branch, base, title, body string) (number int, created bool, err error)
	ClosePull(ctx context.Context, owner, repo string, number int) error
	UpsertComment(ctx context.Context, owner, repo string, number int, key, body string) (int64, error)
}

// WriterCI is what the writer reads of CI's results on a commit.
type WriterCI interface {
	CIRuns(ctx context.Context, owner, repo, sha string) ([]forge.CIRun, error)
	RequiredChecks(ctx context.Context, owner, repo, branch string) (names []string, known bool, err error)
	WorkflowRuns(ctx context.Context, owner, repo, sha string) ([]forge.WorkflowRun, error)
	RunArtifacts(ctx context.Context, owner, repo string, runID int64) ([]forge.Artifact, error)
	DownloadArtifact(ctx context.Context, owner, repo string, id, max int64) ([]byte, error)
}

// Trees reads a pull request's trees with git.
type Trees interface {
	PullRequestTree(ctx context.Context, key string, pr git.PullRequest, read func(head, base *git.Tree, changed []string) error) error
}

// GeneratedTests keeps each source pull request's generated tests, each
// state recorded before its side effect.
type GeneratedTests interface {
	CreateGeneratedTests(ctx context.Context, r gentest.Record) (bool, error)
	AdvanceGeneratedTests(ctx context.Context, r gentest.Record, from gentest.State, tip string) (bool, error)
	GeneratedTests(ctx context.Context, repositoryID int64, number int) (gentest.Record, error)
	GeneratedTestsAt(ctx context.Context, repositoryID int64, tip string) (gentest.Record, error)
}

// Risks are the risk agent's assessments, for automatic generation.
type Risks interface {
	AssessmentOf(ctx context.Context, repositoryID int64, number int, head string) (assessment.Record, error)
}

// WriterDeps are the writer's collaborators.
type WriterDeps struct {
	GitHub func(installationID int64) WriterGitHub
	CI     func(installationID int64) WriterCI
	Git    Trees
	Tests  GeneratedTests
	Risks  Risks
	Audit  Audit
	// Model is the language model tests are asked of (nil: none). Each
	// run meters what it spends through it.
	Model testgen.Model
	// Generator makes one run's generator, given the (metered) model or
	// nil. On the server it must run no code: testgen.LLM or
	// testgen.Fuzz, never testgen.Characterize.
	Generator func(installationID int64, model testgen.Model) testgen.Generator
}

// WriterConfig configures the writer.
type WriterConfig struct {
	Logger *slog.Logger
	Now    func() time.Time
	AppID  int64 // ferry's own App: its check runs are not CI
}

// Writer proposes generated tests for pull requests: it pushes candidates
// to ferry's branch on the pull request's head, lets the repository's CI
// run them, removes the ones CI fails (bounded rounds) and, once green,
// opens one pull request into the pull request's branch. It never runs
// the code.
type Writer struct {
	cfg    WriterConfig
	deps   WriterDeps
	render *render.Renderer
}

// NewWriter returns the writer.
func NewWriter(cfg WriterConfig, deps WriterDeps) (*Writer, error) {
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
	return &Writer{cfg: cfg, deps: deps, render: r}, nil
}

// WriteResult is what a request for tests did, for the reply.
type WriteResult struct {
	Note       string // why nothing was pushed, for people
	Branch     string
	Tip        string
	Candidates int
	// WithoutModel: no model is configured, so the generator proposes fuzz
	// targets only.
	WithoutModel bool
}

// Write writes tests for the functions pr changes and pushes them for CI
// to judge. by is who asked (audit.Ferry for an automatic run).
func (w *Writer) Write(ctx context.Context, r Repo, pr forge.PullRequest, by string) (WriteResult, error) {
	res, err := w.write(ctx, r, pr, by)
	res.WithoutModel = w.deps.Model == nil
	return res, err
}

func (w *Writer) write(ctx context.Context, r Repo, pr forge.PullRequest, by string) (WriteResult, error) {
	if note := w.refuse(r, pr); note != "" {
		return WriteResult{Note: note}, nil
	}
	prev, err := w.deps.Tests.GeneratedTests(ctx, r.ID, pr.Number)
	found := err == nil
	switch {
	case errors.Is(err, gentest.ErrNotFound):
	case err != nil:
		return WriteResult{}, err
	case prev.HeadSHA == pr.HeadSHA:
		if res, done, err := w.again(ctx, r, prev); err != nil || done {
			return res, err
		}
	}
	cands, usage, note, err := w.candidates(ctx, r, pr)
	if err != nil || note != "" {
		return WriteResult{Note: note}, err
	}
	// Tip stays where ferry left its branch: the first push moves it only
	// from there.
	rec := gentest.Record{RepositoryID: r.ID, Number: pr.Number, Branch: gentest.Branch(pr.Number), HeadRef: pr.HeadRef, HeadSHA: pr.HeadSHA,
		Round: 1, Candidates: cands, State: gentest.Pushing, Tip: prev.Tip, PR: prev.PR, Usage: usage, UpdatedAt: w.cfg.Now()}
	// The intent, before the side effect: a retry finds the same decision.
	if err := w.deps.Audit.RecordDecision(ctx, w.decision(r, rec, by), pr.Number); err != nil {
		return WriteResult{}, err
	}
	var saved bool
	if found {
		saved, err = w.deps.Tests.AdvanceGeneratedTests(ctx, rec, prev.State, prev.Tip)
	} else {
		saved, err = w.deps.Tests.CreateGeneratedTests(ctx, rec)
	}
	if err != nil || !saved {
		return WriteResult{Note: "another run for this pull request started meanwhile"}, err
	}
	return w.push(ctx, r, rec)
}

// again is /ferry test on the head a run is for: a push recorded and not
// done is done; a run waiting for CI is judged again (a suite dropped
// while paused) and, when it still waits after gentest.Restartable, is
// started anew, as is one that ended. done: the answer is res.
func (w *Writer) again(ctx context.Context, r Repo, prev gentest.Record) (res WriteResult, done bool, err error) {
	fresh := w.cfg.Now().Sub(prev.UpdatedAt) < gentest.Restartable
	switch prev.State {
	case gentest.Pushing:
		if fresh {
			res, err = w.push(ctx, r, prev) // a retry: the push it recorded
			return res, true, err
		}
	case gentest.WaitingCI:
		if err := w.judge(ctx, r, prev); err != nil {
			return WriteResult{}, true, err
		}
		if now, err := w.deps.Tests.GeneratedTests(ctx, r.ID, prev.Number); err != nil || now.State != gentest.WaitingCI || fresh {
			return w.already(now), true, err
		}
	case gentest.GivingUp:
		return WriteResult{}, false, w.gaveUp(ctx, r, prev)
	case gentest.Green, gentest.Opened:
		return w.already(prev), true, nil
	case gentest.GaveUp, gentest.Stale, gentest.Closing, gentest.Closed:
	}
	return WriteResult{}, false, nil
}

func (w *Writer) already(rec gentest.Record) WriteResult {
	return WriteResult{Note: fmt.Sprintf("tests for %s are on %s already (%s)", audit.Short(rec.HeadSHA), rec.Branch, describe(rec))}
}

// refuse says why ferry proposes no tests for pr ("" when it may). Only a
// head repository known to be the base one is pushed to: a fork's, or one
// GitHub no longer names (a deleted fork), is refused.
func (w *Writer) refuse(r Repo, pr forge.PullRequest) string {
	switch {
	case pr.State != "" && pr.State != "open":
		return fmt.Sprintf("#%d is %s: ferry writes tests for open pull requests", pr.Number, pr.State)
	case !strings.EqualFold(pr.HeadRepo, r.fullName()):
		return fmt.Sprintf("#%d comes from a fork: ferry cannot push to its branch, so it proposes no tests", pr.Number)
	}
	return ""
}

func describe(r gentest.Record) string {
	switch r.State {
	case gentest.Opened:
		return fmt.Sprintf("proposed in #%d", r.PR)
	case gentest.Green:
		return fmt.Sprintf("CI passed them on %s; the pull request is being opened", audit.Short(r.Tip))
	case gentest.GivingUp, gentest.GaveUp, gentest.Stale, gentest.Closing, gentest.Closed:
		return "ferry proposes none: " + r.Note
	case gentest.Pushing, gentest.WaitingCI:
	}
	return fmt.Sprintf("round %d, CI is running them on %s", r.Round, audit.Short(r.Tip))
}

func (w *Writer) decision(r Repo, rec gentest.Record, by string) audit.Decision {
	d := audit.Decision{ID: "generate-tests-" + strconv.FormatInt(r.ID, 10) + "-" + strconv.Itoa(rec.Number) + "-" + audit.Short(rec.HeadSHA),
		At: w.cfg.Now(), RepositoryID: r.ID, Repository: r.fullName(), Subject: audit.PullRequestSubject(rec.Number, rec.HeadSHA),
		Kind: audit.KindTests, Actor: by, InputsDigest: audit.Digest(rec.Files()),
		Output: fmt.Sprintf("pushed %d generated tests to %s for CI to run", len(rec.Candidates), rec.Branch)}
	for _, c := range rec.Candidates {
		d.Reasons = append(d.Reasons, audit.Reason{Rule: "generated-test", Summary: fmt.Sprintf("%s in %s tests %s (%s)", c.Name, c.File, c.Target, c.Origin)})
	}
	return d
}

// push commits the kept candidates on the source head (as a child of the
// last round's commit after the first) and records the commit CI judges
// — unless the source pull request moved on from the head they are for,
// or the branch is not where ferry left it.
func (w *Writer) push(ctx context.Context, r Repo, rec gentest.Record) (WriteResult, error) {
	if why, err := w.movedOn(ctx, r, rec); err != nil || why != "" {
		if err != nil {
			return WriteResult{}, err
		}
		return WriteResult{Note: why}, w.giveUp(ctx, r, rec, why)
	}
	gh := w.deps.GitHub(r.InstallationID)
	msg := fmt.Sprintf("Tests for #%d, round %d\n\n%d tests written by ferry for the functions #%d changes; CI runs them here.",
		rec.Number, rec.Round, len(rec.Kept()), rec.Number)
	parent := ""
	if rec.Round > 1 {
		parent = rec.Tip
	}
	tip, err := gh.PushBranch(ctx, r.Owner, r.Name, forge.BranchCommit{Branch: rec.Branch, Tree: rec.HeadSHA, Parent: parent,
		Message: msg, Files: rec.Files()}, rec.Tip)
	if errors.Is(err, github.ErrBranchTaken) {
		why := fmt.Sprintf("the branch %s is not where ferry left it (someone else's?); ferry leaves it be", rec.Branch)
		return WriteResult{Note: why}, w.giveUp(ctx, r, rec, why)
	}
	if err != nil {
		return WriteResult{}, err
	}
	from := rec.Tip
	rec.State, rec.Tip, rec.UpdatedAt = gentest.WaitingCI, tip, w.cfg.Now()
	if _, err := w.deps.Tests.AdvanceGeneratedTests(ctx, rec, gentest.Pushing, from); err != nil {
		return WriteResult{}, err
	}
	return WriteResult{Branch: rec.Branch, Tip: tip, Candidates: len(rec.Kept())}, nil
}

// movedOn reads the source pull request again: why nothing more is done
// for rec's head ("" while it is still the open head).
func (w *Writer) movedOn(ctx context.Context, r Repo, rec gentest.Record) (string, error) {
	pr, err := w.deps.GitHub(r.InstallationID).PullRequest(ctx, r.Owner, r.Name, rec.Number)
	switch {
	case err != nil:
		return "", err
	case pr.HeadSHA != rec.HeadSHA || (pr.State != "" && pr.State != "open"):
		return gentest.MovedOn, nil
	}
	return "", nil
}

// giveUp records that ferry gives up on rec (from the state it is in) and
// then says why on the source pull request.
func (w *Writer) giveUp(ctx context.Context, r Repo, rec gentest.Record, why string) error {
	next := rec
	next.State, next.Note, next.UpdatedAt = gentest.GivingUp, why, w.cfg.Now()
	if moved, err := w.deps.Tests.AdvanceGeneratedTests(ctx, next, rec.State, rec.Tip); err != nil || !moved {
		return err
	}
	return w.gaveUp(ctx, r, next)
}
