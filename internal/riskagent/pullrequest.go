package riskagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"

	"github.com/ferry-ci/ferry/internal/assessment"
	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/logctx"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/render"
	"github.com/ferry-ci/ferry/internal/risk"
	"github.com/ferry-ci/ferry/internal/testsel"
)

// PullRequest assesses a pull request's head under pol (the policy at its
// base) and publishes the result. It is idempotent: a subject already
// published is left alone, a partly published one is finished.
func (o *Agent) PullRequest(ctx context.Context, s Subject, pol policy.Loaded) error {
	ctx = logctx.With(ctx, slog.Int("pr", s.Number), slog.String("head", s.HeadSHA))
	row, err := o.deps.Assessments.GetAssessment(ctx, s.ID)
	if err == nil && row.Published {
		return nil
	}
	if err != nil && !errors.Is(err, assessment.ErrNotFound) {
		return err
	}
	prev, perr := o.previous(ctx, s)
	if perr != nil {
		return perr
	}
	if prev != nil && prev.EventAt.After(s.EventAt) && prev.HeadSHA != s.HeadSHA {
		// Events (and retries) can run out of order; never let an older
		// head overwrite what a newer one published.
		o.cfg.Logger.InfoContext(ctx, "stale pull request event: a newer head was assessed", "newer", prev.HeadSHA)
		return nil
	}
	if err == nil { // an earlier attempt decided; finish publishing it
		var rec record
		if err := decode(row, &rec); err != nil {
			return err
		}
		return o.publishPullRequest(ctx, s, row, rec)
	}
	rec, err := o.decidePullRequest(ctx, s, pol)
	if err != nil {
		return err
	}
	rec.Previous = previousView(prev)
	row, rec, err = o.save(ctx, s, assessment.PullRequest, rec)
	if err != nil {
		return err
	}
	return o.publishPullRequest(ctx, s, row, rec)
}

func (o *Agent) decidePullRequest(ctx context.Context, s Subject, pol policy.Loaded) (record, error) {
	rec := recordOf(pol)
	if !pol.Usable() {
		return rec, nil
	}
	gh := o.deps.Changes(s.InstallationID)
	ch, err := gh.PullRequestChange(ctx, s.Owner, s.Repo, s.Number, s.BaseSHA, s.HeadSHA)
	if err != nil {
		return rec, err
	}
	if ch.Truncated && o.deps.Git != nil && s.CloneURL != "" {
		if ch, err = o.readWithGit(ctx, gh, s, ch, pol.Policy.Limits); err != nil {
			return rec, err
		}
	}
	if err = o.assess(ctx, s, ch, pol.Policy, risk.PullRequest, &rec); err == nil && rec.Route != nil {
		rec.Tests, rec.Dockerfiles = o.readPullRequest(ctx, s, rec.Route.Tests, testsel.Mappings(pol.Policy.TestMap), ch)
	}
	return rec, err
}

// readWithGit reads the whole of a pull request the API truncated, within
// the policy's limits (lowered by the policy, never raised past ferry's
// own). What git leaves out — past a limit, or when it fails — is made up
// from the listed part, and the change stays marked partial (no fast
// path): safe, rather than nothing. Only a cancelled job stops here.
func (o *Agent) readWithGit(ctx context.Context, gh Changes, s Subject, listed change.Change, lim policy.Limits) (change.Change, error) {
	user, pass, err := gh.GitCredentials(ctx)
	if err == nil {
		pr := git.PullRequest{URL: s.CloneURL, Username: user, Password: pass, Number: s.Number, BaseRef: s.BaseRef, HeadSHA: s.HeadSHA}
		var read change.Change
		if read, err = o.deps.Git.PullRequestChange(ctx, strconv.FormatInt(s.RepositoryID, 10), pr, gitLimits(lim)); err == nil {
			o.cfg.Logger.InfoContext(ctx, "read a truncated pull request with git", "files", len(read.Files), "partial", read.Truncated)
			return withListed(read, listed), nil
		}
	}
	if ctx.Err() != nil {
		return listed, fmt.Errorf("read pull request %d with git: %w", s.Number, ctx.Err())
	}
	o.cfg.Logger.WarnContext(ctx, "could not read the whole pull request with git; assessing the listed part", "err", err)
	return listed, nil
}

func gitLimits(l policy.Limits) git.Limits {
	l = l.Capped()
	return git.Limits{MaxFiles: l.MaxFiles, MaxFileBytes: l.MaxFileBytes, MaxPatchBytes: l.MaxPatchBytes}
}

// withListed completes what git read with what the API listed: the
// subject's commits and author (a shallow fetch has no history); and when
// the read is partial, the listed files git did not reach, and the listed
// patches (exact, from the merge base) over git's, which may be missing
// or, without a test merge, diffed from the base tip.
func withListed(read, listed change.Change) change.Change {
	read.Base, read.Head, read.Author, read.Commits = listed.Base, listed.Head, listed.Author, listed.Commits
	if !read.Truncated {
		return read
	}
	at := make(map[string]int, len(read.Files))
	for i, f := range read.Files {
		at[f.Path] = i
	}
	for _, f := range listed.Files {
		i, ok := at[f.Path]
		switch {
		case !ok:
			read.Files = append(read.Files, f)
		case f.Patch != "":
			f.Size = read.Files[i].Size
			read.Files[i] = f
		}
	}
	return read
}

func (o *Agent) publishPullRequest(ctx context.Context, s Subject, row assessment.Record, rec record) error {
	gh := o.deps.Publisher(s.InstallationID)
	ctl, err := o.control(ctx, s)
	if err != nil {
		return err
	}
	body, run, err := o.present(s, rec, ctl)
	if err != nil {
		return err
	}
	if err := o.deps.Audit.RecordDecision(ctx, decision(row, rec), s.Number); err != nil {
		return err // recorded on every attempt: the insert is keyed, a retry adds nothing
	}
	if ctl.Paused != nil {
		// Paused: only the comment saying so. The assessment stays
		// unpublished — waiting — and is published on resume.
		_, err := gh.UpsertComment(ctx, s.Owner, s.Repo, s.Number, CommentKey, body)
		if err == nil {
			o.cfg.Logger.InfoContext(ctx, "paused: assessment waits", "paused_by", ctl.Paused.By)
		}
		return err
	}
	if err := o.checkRun(ctx, gh, s, row, run); err != nil {
		return err
	}
	commentID, err := gh.UpsertComment(ctx, s.Owner, s.Repo, s.Number, CommentKey, body)
	if err != nil {
		return err
	}
	var level risk.Level // none when the policy is invalid: no risk label stays
	if rec.Assessment != nil {
		level = rec.Assessment.Level
	}
	if err := o.syncLabels(ctx, gh, s, level, rec.Previous); err != nil {
		return err
	}
	if err := o.deps.Publications.PublishAssessment(ctx, row.ID, commentID, o.cfg.Now()); err != nil {
		return err
	}
	o.logPublished(ctx, rec)
	return nil
}

// syncLabels leaves exactly one risk label on the pull request.
func (o *Agent) syncLabels(ctx context.Context, gh Publisher, s Subject, level risk.Level, prev *render.Previous) error {
	want := LabelPrefix + string(level)
	for _, l := range []risk.Level{risk.Low, risk.Medium, risk.High} {
		label := LabelPrefix + string(l)
		had := slices.Contains(s.Labels, label) || (prev != nil && prev.Level == l)
		if label != want && had {
			if err := gh.RemoveLabel(ctx, s.Owner, s.Repo, s.Number, label); err != nil {
				return err
			}
		}
	}
	if level == "" || slices.Contains(s.Labels, want) {
		return nil
	}
	return gh.AddLabels(ctx, s.Owner, s.Repo, s.Number, want)
}

func (o *Agent) logPublished(ctx context.Context, rec record) {
	if rec.Assessment == nil {
		o.cfg.Logger.InfoContext(ctx, "policy invalid; reported", "problems", len(rec.Problems))
		return
	}
	a := rec.Assessment
	o.cfg.Logger.InfoContext(ctx, "assessed", "level", a.Level, "score", a.Score, "reasons", len(a.Reasons), "route", rec.Route.Deploy)
}

// PublishWaiting publishes what waited while the repository was paused:
// the latest unpublished assessment of each pull request and push.
func (o *Agent) PublishWaiting(ctx context.Context, repositoryID int64) error {
	rows, err := o.deps.Assessments.WaitingAssessments(ctx, repositoryID)
	if err != nil {
		return err
	}
	var errs []error
	for _, row := range rows {
		var rec record
		if err := decode(row, &rec); err != nil {
			errs = append(errs, err)
			continue
		}
		if row.Number == 0 {
			errs = append(errs, o.publishPush(ctx, rec.Subject, row, rec))
			continue
		}
		errs = append(errs, o.publishPullRequest(ctx, rec.Subject, row, rec))
	}
	return errors.Join(errs...)
}
