package testagent

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-ci/ferry/internal/assessment"
	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/gentest"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/md"
	"github.com/ferry-ci/ferry/internal/render"
	"github.com/ferry-ci/ferry/internal/testsel"
)

// Bounds on the reports read for one commit.
const (
	maxReportRuns      = 10
	maxReportArtifacts = 20
)

// commentKey is the writer's one comment on a source pull request.
const commentKey = "generated-tests"

// CheckSuite acts on a check suite that completed on sha: when it is
// ferry's branch's commit waiting for CI, the round's results decide —
// wait for the other checks, push again without the failing tests, open
// the pull request, or give up. Anything else is not the writer's.
func (w *Writer) CheckSuite(ctx context.Context, r Repo, sha string) error {
	rec, err := w.deps.Tests.GeneratedTestsAt(ctx, r.ID, sha)
	if errors.Is(err, gentest.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	switch rec.State {
	case gentest.Pushing: // a retry: the next round's push was recorded, not done
		_, err = w.push(ctx, r, rec)
		return err
	case gentest.Green: // a retry: opening was recorded, not done
		return w.open(ctx, r, rec)
	case gentest.GivingUp: // a retry: the comment was recorded, not posted
		return w.gaveUp(ctx, r, rec)
	case gentest.WaitingCI:
		return w.judge(ctx, r, rec)
	case gentest.Opened, gentest.GaveUp, gentest.Stale, gentest.Closing, gentest.Closed:
		// A repeated event, or one about a commit ferry moved on from.
	}
	return nil
}

// judge reads CI's results on the record's commit and acts on them. CI
// that shows no verdict within gentest.WaitCI of the push ends the run.
func (w *Writer) judge(ctx context.Context, r Repo, rec gentest.Record) error {
	step, err := w.step(ctx, r, rec)
	if err != nil {
		return err
	}
	if step.Kind == gentest.Wait {
		if waited := w.cfg.Now().Sub(rec.UpdatedAt); waited < gentest.WaitCI {
			w.cfg.Logger.InfoContext(ctx, "generated tests wait for CI", "pull_request", rec.Number, "round", rec.Round, "why", step.Why)
			return nil
		}
		why := fmt.Sprintf("CI gave no verdict on ferry's tests within %s", gentest.WaitCI)
		if step.Why != "" {
			why += " (" + step.Why + ")"
		}
		step = gentest.Step{Kind: gentest.GiveUp, Why: why}
	}
	w.cfg.Logger.InfoContext(ctx, "generated tests judged", "pull_request", rec.Number, "round", rec.Round, "step", step.Kind)
	next := rec
	next.UpdatedAt = w.cfg.Now()
	switch step.Kind {
	case gentest.GiveUp:
		return w.giveUp(ctx, r, rec, step.Why)
	case gentest.Open:
		next.State = gentest.Green
	case gentest.Retry:
		next = next.Without(step.Removed)
	case gentest.Wait: // turned into GiveUp above
	}
	// Of two suites completing at once, one job moves the record.
	if moved, err := w.deps.Tests.AdvanceGeneratedTests(ctx, next, gentest.WaitingCI, rec.Tip); err != nil || !moved {
		return err
	}
	if step.Kind == gentest.Open {
		return w.open(ctx, r, next)
	}
	_, err = w.push(ctx, r, next)
	return err
}

// step is what CI's results on rec's commit lead to; more check runs
// than ferry reads are no verdict yet.
func (w *Writer) step(ctx context.Context, r Repo, rec gentest.Record) (gentest.Step, error) {
	checks, err := w.checks(ctx, r, rec.Tip)
	if errors.Is(err, github.ErrTooManyCIRuns) {
		return gentest.Step{Kind: gentest.Wait, Why: "more check runs than ferry reads"}, nil
	}
	if err != nil {
		return gentest.Step{}, err
	}
	var results []testsel.Result
	if completed(checks) {
		if results, err = w.results(ctx, r, rec.Tip); err != nil {
			return gentest.Step{}, err
		}
	}
	return gentest.Decide(rec, checks, results), nil
}

// completed: every check run there completed (reports are worth reading).
func completed(checks []gentest.Check) bool {
	for _, c := range checks {
		if c.Status != "completed" {
			return false
		}
	}
	return len(checks) > 0
}

// checks are CI's check runs on sha, ferry's own left out; those branch
// protection requires of the default branch are marked when every one of
// them is there.
func (w *Writer) checks(ctx context.Context, r Repo, sha string) ([]gentest.Check, error) {
	ci := w.deps.CI(r.InstallationID)
	runs, err := ci.CIRuns(ctx, r.Owner, r.Name, sha)
	if err != nil {
		return nil, err
	}
	var out []gentest.Check
	present := map[string]bool{}
	for _, run := range runs {
		if run.AppID == w.cfg.AppID && w.cfg.AppID != 0 {
			continue
		}
		present[run.Name] = true
		out = append(out, gentest.Check{Name: run.Name, Status: run.Status, Conclusion: run.Conclusion, URL: run.URL, Output: run.Output})
	}
	names, known, err := ci.RequiredChecks(ctx, r.Owner, r.Name, r.DefaultBranch)
	if err != nil || !known || len(names) == 0 || r.DefaultBranch == "" {
		return out, err
	}
	required := map[string]bool{}
	for _, n := range names {
		if !present[n] {
			return out, nil // a required check did not run here: no evidence from them
		}
		required[n] = true
	}
	for i := range out {
		out[i].Required = required[out[i].Name]
	}
	return out, nil
}

// results are the go test -json and JUnit reports the workflow runs on
// sha uploaded, when they did.
func (w *Writer) results(ctx context.Context, r Repo, sha string) ([]testsel.Result, error) {
	ci := w.deps.CI(r.InstallationID)
	runs, err := ci.WorkflowRuns(ctx, r.Owner, r.Name, sha)
	if err != nil {
		return nil, err
	}
	var out []testsel.Result
	read := 0
	for _, run := range runs[:min(len(runs), maxReportRuns)] {
		arts, err := ci.RunArtifacts(ctx, r.Owner, r.Name, run.ID)
		if err != nil {
			return nil, err
		}
		for _, art := range arts {
			if art.Expired || read == maxReportArtifacts {
				continue
			}
			read++
			got, err := reports(ctx, w.cfg.Logger, ci, r, art)
			if err != nil {
				return nil, err
			}
			out = append(out, got...)
		}
	}
	return out, nil
}

// open opens (or updates) ferry's pull request into the source pull
// request's branch, then records it — unless the source moved on from the
// head the tests are for, or someone else's pull request is on the branch.
func (w *Writer) open(ctx context.Context, r Repo, rec gentest.Record) error {
	if why, err := w.movedOn(ctx, r, rec); err != nil || why != "" {
		if err != nil {
			return err
		}
		return w.giveUp(ctx, r, rec, why)
	}
	checks, err := w.checks(ctx, r, rec.Tip)
	if err != nil {
		return err
	}
	text, err := w.render.GeneratedTests(render.NewGeneratedTestsView(rec, checks, r.HTMLURL))
	if err != nil {
		return err
	}
	body := forge.BodyStart + "\n" + text + "\n" + forge.BodyEnd
	n, _, err := w.deps.GitHub(r.InstallationID).OpenPull(ctx, r.Owner, r.Name, rec.Branch, rec.HeadRef, fmt.Sprintf("Tests for #%d", rec.Number), body)
	if errors.Is(err, github.ErrBranchTaken) {
		return w.giveUp(ctx, r, rec, fmt.Sprintf("a pull request from %s that ferry did not open is there; ferry leaves it be", rec.Branch))
	}
	if err != nil {
		return err
	}
	next := rec
	next.State, next.PR, next.UpdatedAt = gentest.Opened, n, w.cfg.Now()
	_, err = w.deps.Tests.AdvanceGeneratedTests(ctx, next, gentest.Green, rec.Tip)
	return err
}

// gaveUp tells the source pull request why ferry proposes no tests (the
// comment is keyed: posting it again edits it), then records it told.
func (w *Writer) gaveUp(ctx context.Context, r Repo, rec gentest.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "🧪 ferry proposes no tests for this pull request: %s.", md.Text(rec.Note))
	if removed := len(rec.Candidates) - len(rec.Kept()); removed > 0 {
		fmt.Fprintf(&b, " CI failed %d of the %d tests ferry wrote over %d rounds; they are on %s.", removed, len(rec.Candidates), rec.Round,
			md.Code(rec.Branch))
	}
	b.WriteString("\n\n<sub>ferry runs none of them itself. `/ferry test` writes them again after new pushes.</sub>")
	if _, err := w.deps.GitHub(r.InstallationID).UpsertComment(ctx, r.Owner, r.Name, rec.Number, commentKey, b.String()); err != nil {
		return err
	}
	next := rec
	next.State = gentest.GaveUp
	_, err := w.deps.Tests.AdvanceGeneratedTests(ctx, next, gentest.GivingUp, rec.Tip)
	return err
}

// SourceClosed closes ferry's pull request of a source pull request that
// closed (merged or not), and records it closed — each step conditional
// on the state it read, so a check suite's job racing it loses cleanly.
func (w *Writer) SourceClosed(ctx context.Context, r Repo, number int) error {
	rec, err := w.deps.Tests.GeneratedTests(ctx, r.ID, number)
	if errors.Is(err, gentest.ErrNotFound) || (err == nil && rec.State == gentest.Closed) {
		return nil
	}
	if err != nil {
		return err
	}
	if rec.State != gentest.Closing {
		next := rec
		next.State, next.UpdatedAt = gentest.Closing, w.cfg.Now()
		if moved, err := w.deps.Tests.AdvanceGeneratedTests(ctx, next, rec.State, rec.Tip); err != nil || !moved {
			if err == nil {
				err = fmt.Errorf("generated tests of #%d moved on while closing: again", number)
			}
			return err // the retry reads the state anew
		}
		rec = next
	}
	if rec.PR != 0 {
		if err := w.deps.GitHub(r.InstallationID).ClosePull(ctx, r.Owner, r.Name, rec.PR); err != nil {
			return err
		}
	}
	next := rec
	next.State = gentest.Closed
	_, err = w.deps.Tests.AdvanceGeneratedTests(ctx, next, gentest.Closing, rec.Tip)
	return err
}

// SourceMoved marks a run stale when its source pull request's head moved
// on from the one its tests are for (a push, a rebase): nothing is opened
// for the old head; /ferry test writes tests for the new one.
func (w *Writer) SourceMoved(ctx context.Context, r Repo, pr forge.PullRequest) error {
	rec, err := w.deps.Tests.GeneratedTests(ctx, r.ID, pr.Number)
	if errors.Is(err, gentest.ErrNotFound) || (err == nil && (rec.HeadSHA == pr.HeadSHA || !rec.State.Active())) {
		return nil
	}
	if err != nil {
		return err
	}
	next := rec
	next.State, next.Note, next.UpdatedAt = gentest.Stale, gentest.MovedOn, w.cfg.Now()
	_, err = w.deps.Tests.AdvanceGeneratedTests(ctx, next, rec.State, rec.Tip)
	return err
}

// levels orders risk levels for tests.generate.
var levels = map[string]int{"low": 1, "medium": 2, "high": 3}

// Auto writes tests for a pull request ferry assessed at its head at or
// above level (tests.generate in the default branch's policy) — only with
// a model: fuzz targets are proposed when a person asks, never on their
// own. A pull request from a fork is told once that ferry cannot push.
func (w *Writer) Auto(ctx context.Context, r Repo, pr forge.PullRequest, level string) error {
	if w.deps.Model == nil || levels[level] == 0 {
		return nil
	}
	a, err := w.deps.Risks.AssessmentOf(ctx, r.ID, pr.Number, pr.HeadSHA)
	if errors.Is(err, assessment.ErrNotFound) || (err == nil && levels[string(a.Level)] < levels[level]) {
		return nil
	}
	if err != nil {
		return err
	}
	res, err := w.Write(ctx, r, pr, audit.Ferry)
	if err != nil || res.Note == "" {
		return err
	}
	w.cfg.Logger.InfoContext(ctx, "no generated tests", "pull_request", pr.Number, "why", res.Note)
	if w.refuse(r, pr) == "" {
		return nil
	}
	_, err = w.deps.GitHub(r.InstallationID).UpsertComment(ctx, r.Owner, r.Name, pr.Number, commentKey, "🧪 "+md.Text(res.Note)+".")
	return err
}
