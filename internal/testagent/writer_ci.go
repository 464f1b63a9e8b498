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
	case gentest.WaitingCI:
		return w.judge(ctx, r, rec)
	case gentest.Opened, gentest.GaveUp, gentest.Closing, gentest.Closed:
		// A repeated event, or one about a commit ferry moved on from.
	}
	return nil
}

// judge reads CI's results on the record's commit and acts on them.
func (w *Writer) judge(ctx context.Context, r Repo, rec gentest.Record) error {
	checks, err := w.checks(ctx, r, rec.Tip)
	if err != nil {
		return err
	}
	var results []testsel.Result
	if failedAny(checks) {
		if results, err = w.results(ctx, r, rec.Tip); err != nil {
			return err
		}
	}
	step := gentest.Decide(rec, checks, results)
	next := rec
	next.UpdatedAt = w.cfg.Now()
	switch step.Kind {
	case gentest.Wait:
		return nil
	case gentest.Open:
		next.State = gentest.Green
	case gentest.Retry:
		next = next.Without(step.Removed)
	case gentest.GiveUp:
		next.State, next.Note = gentest.GaveUp, step.Why
	}
	// Of two suites completing at once, one job moves the record.
	if moved, err := w.deps.Tests.AdvanceGeneratedTests(ctx, next, gentest.WaitingCI, rec.Tip); err != nil || !moved {
		return err
	}
	w.cfg.Logger.InfoContext(ctx, "generated tests judged", "pull_request", rec.Number, "round", rec.Round, "step", step.Kind)
	switch step.Kind {
	case gentest.Open:
		return w.open(ctx, r, next)
	case gentest.Retry:
		_, err = w.push(ctx, r, next)
		return err
	case gentest.GiveUp:
		return w.gaveUp(ctx, r, next)
	case gentest.Wait: // returned above
	}
	return nil
}

func failedAny(checks []gentest.Check) bool {
	for _, c := range checks {
		if c.Failed() {
			return true
		}
	}
	return false
}

// checks are CI's check runs on sha, ferry's own left out.
func (w *Writer) checks(ctx context.Context, r Repo, sha string) ([]gentest.Check, error) {
	runs, err := w.deps.CI(r.InstallationID).CIRuns(ctx, r.Owner, r.Name, sha)
	if err != nil {
		return nil, err
	}
	var out []gentest.Check
	for _, run := range runs {
		if run.AppID == w.cfg.AppID && w.cfg.AppID != 0 {
			continue
		}
		out = append(out, gentest.Check{Name: run.Name, Status: run.Status, Conclusion: run.Conclusion, URL: run.URL, Output: run.Output})
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
// request's branch, then records it.
func (w *Writer) open(ctx context.Context, r Repo, rec gentest.Record) error {
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
	if err != nil {
		return err
	}
	next := rec
	next.State, next.PR, next.UpdatedAt = gentest.Opened, n, w.cfg.Now()
	_, err = w.deps.Tests.AdvanceGeneratedTests(ctx, next, gentest.Green, rec.Tip)
	return err
}

// gaveUp tells the source pull request why ferry proposes no tests.
func (w *Writer) gaveUp(ctx context.Context, r Repo, rec gentest.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "🧪 ferry proposes no tests for this pull request: %s.", md.Text(rec.Note))
	if removed := len(rec.Candidates) - len(rec.Kept()); removed > 0 {
		fmt.Fprintf(&b, " CI failed %d of the %d tests ferry wrote over %d rounds; they are on %s.", removed, len(rec.Candidates), rec.Round,
			md.Code(rec.Branch))
	}
	b.WriteString("\n\n<sub>ferry runs none of them itself. `/ferry test` writes them again after new pushes.</sub>")
	_, err := w.deps.GitHub(r.InstallationID).UpsertComment(ctx, r.Owner, r.Name, rec.Number, commentKey, b.String())
	return err
}

// SourceClosed closes ferry's pull request of a source pull request that
// closed (merged or not), and records it closed.
func (w *Writer) SourceClosed(ctx context.Context, r Repo, number int) error {
	rec, err := w.deps.Tests.GeneratedTests(ctx, r.ID, number)
	if errors.Is(err, gentest.ErrNotFound) || (err == nil && rec.State == gentest.Closed) {
		return nil
	}
	if err != nil {
		return err
	}
	rec.State, rec.UpdatedAt = gentest.Closing, w.cfg.Now()
	if err := w.deps.Tests.SaveGeneratedTests(ctx, rec); err != nil {
		return err
	}
	if rec.PR != 0 {
		if err := w.deps.GitHub(r.InstallationID).ClosePull(ctx, r.Owner, r.Name, rec.PR); err != nil {
			return err
		}
	}
	rec.State = gentest.Closed
	return w.deps.Tests.SaveGeneratedTests(ctx, rec)
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
