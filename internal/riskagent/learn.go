package riskagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/ferry-ci/ferry/internal/assessment"
	"github.com/ferry-ci/ferry/internal/calibrate"
	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
	"github.com/ferry-ci/ferry/internal/riskmodel"
)

// Models keeps each repository's learned risk model.
type Models interface {
	RiskModel(ctx context.Context, repositoryID int64) (assessment.Model, error)
	SaveRiskModel(ctx context.Context, repositoryID int64, m assessment.Model, at time.Time) error
}

// Histories reads a branch's whole history from ferry's git cache.
type Histories interface {
	History(ctx context.Context, key string, r git.Remote, branch string, read func(*git.Repo) error) error
}

const (
	// minLearned is how many changes the learner must have seen before
	// its percentiles mean anything: below, the rules alone.
	minLearned = 200
	// maxStateBytes bounds a stored state read back (JSON, uncompressed).
	maxStateBytes = 256 << 20
	// reasonsShown is how many learned reasons the comment gives.
	reasonsShown = 3
)

// Learn brings the repository's risk model up to the branch's head: the
// first time it backfills the history (bounded by the policy's commits
// and days), later it reads only what is new. Labels come from the
// history itself: a revert marks what it reverts (strong), a fix the
// commits that introduced the lines it changed (weak, SZZ), each from
// the time it landed. It learns oldest first in chunks, saving after
// each, and stops early when its job's time runs short: a long backfill
// goes on where it stopped at the next push, nothing learned twice.
func (o *Agent) Learn(ctx context.Context, s Subject, branch string, p policy.Policy) error {
	if o.deps.Models == nil || o.deps.Histories == nil || !p.Learning.Enabled || s.CloneURL == "" {
		return nil
	}
	m, err := o.deps.Models.RiskModel(ctx, s.RepositoryID)
	if err != nil {
		return err
	}
	l := o.learner(ctx, m)
	user, pass, err := o.deps.Changes(s.InstallationID).GitCredentials(ctx)
	if err != nil {
		return err
	}
	remote := git.Remote{URL: s.CloneURL, Username: user, Password: pass}
	return o.deps.Histories.History(ctx, strconv.FormatInt(s.RepositoryID, 10), remote, branch, func(g *git.Repo) error {
		head, err := g.Resolve("refs/heads/" + branch)
		if err != nil || head.Hash.String() == m.HeadSHA {
			return err
		}
		// What is new, oldest first: a cheap walk (paths only).
		todo, err := g.FirstParent(ctx, head, git.HistoryOptions{Max: p.Learning.BackfillCommits,
			Since: o.cfg.Now().AddDate(0, 0, -p.Learning.BackfillDays), Known: l.Known})
		if err != nil {
			return err
		}
		o.cfg.Logger.InfoContext(ctx, "learning the repository's history", "commits", len(todo.Commits), "from", m.HeadSHA)
		return o.learnChunks(ctx, g, s, l, &m, todo, p)
	})
}

// learnChunk is how many commits are read (lines, SZZ) and learned
// between saves.
const learnChunk = 200

// learnChunks reads and learns todo's commits chunk by chunk, saving the
// model after each.
func (o *Agent) learnChunks(ctx context.Context, g *git.Repo, s Subject, l *riskmodel.Learner, m *assessment.Model,
	todo git.History, p policy.Policy) error {
	for start := 0; start < len(todo.Commits); start += learnChunk {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < o.cfg.LearnReserve {
			o.cfg.Logger.InfoContext(ctx, "history learning continues at the next push", "left", len(todo.Commits)-start)
			return nil
		}
		end := min(len(todo.Commits), start+learnChunk)
		last, err := g.Resolve(todo.Commits[end-1].SHA)
		if err != nil {
			return err
		}
		// Back from the chunk's newest commit to what is known (skipped
		// commits count as steps of the walk).
		h, err := g.FirstParent(ctx, last, git.HistoryOptions{Max: end - start + len(todo.Skipped), WithLines: true, Known: l.Known})
		if err != nil {
			return err
		}
		if len(h.Skipped) > 0 {
			o.cfg.Logger.WarnContext(ctx, "commits that could not be read were left out", "count", len(h.Skipped))
		}
		fed := feed(l, h.Commits, p)
		m.HeadSHA = last.Hash.String()
		if err := o.saveModel(ctx, s, l, m); err != nil {
			return err // stale: another job learned first; the retry starts from its state
		}
		o.cfg.Logger.InfoContext(ctx, "risk model learned", "new_changes", fed, "changes", m.Changes)
	}
	return nil
}

// saveModel stores the learner as the model's next version.
func (o *Agent) saveModel(ctx context.Context, s Subject, l *riskmodel.Learner, m *assessment.Model) error {
	state, err := l.MarshalBinary()
	if err != nil {
		return err
	}
	m.State, m.Changes = state, l.Observed()
	if err := o.deps.Models.SaveRiskModel(ctx, s.RepositoryID, *m, o.cfg.Now()); err != nil {
		return err
	}
	m.Version++
	return nil
}

// learner restores the stored learner; one of another version (or
// broken) is dropped and the history learned again.
func (o *Agent) learner(ctx context.Context, m assessment.Model) *riskmodel.Learner {
	if m.Version == 0 {
		return riskmodel.NewLearner(riskmodel.Config{})
	}
	l, err := riskmodel.LoadLearner(m.State, riskmodel.Config{}, maxStateBytes)
	if err != nil {
		o.cfg.Logger.WarnContext(ctx, "stored risk model dropped: learning again", "err", err)
		return riskmodel.NewLearner(riskmodel.Config{})
	}
	return l
}

// feed scores and observes each new commit in order, after the labels it
// reveals (a revert its target, a fix what SZZ blamed, when learned
// before); it returns how many it fed.
func feed(l *riskmodel.Learner, commits []calibrate.Commit, p policy.Policy) int {
	n := 0
	for _, c := range commits {
		if l.Known(c.SHA) {
			continue
		}
		paths := make([]string, len(c.Files))
		for i, f := range c.Files {
			paths[i] = f.Path
		}
		for _, t := range c.Reverts {
			if l.Known(t) {
				l.Label(t, c.Date, true, paths)
			}
		}
		for _, t := range c.Fixes {
			if l.Known(t) {
				l.Label(t, c.Date, false, paths)
			}
		}
		mc := calibrate.ModelChange(c, calibrate.RulePoints(c, p))
		l.Observe(c.SHA, mc, l.Score(mc))
		n++
	}
	return n
}

// withLearned adds what the repository's model says to an assessment,
// when it has learned enough; a model that cannot be read leaves the
// rules alone (and says so in the log).
func (o *Agent) withLearned(ctx context.Context, s Subject, ch change.Change, a risk.Assessment, p policy.Policy) risk.Assessment {
	if o.deps.Models == nil || !p.Learning.Enabled {
		return a
	}
	m, err := o.deps.Models.RiskModel(ctx, s.RepositoryID)
	if err != nil || m.Version == 0 {
		if err != nil {
			o.cfg.Logger.WarnContext(ctx, "risk model not read: rules alone", "err", err)
		}
		return a
	}
	l := o.learner(ctx, m)
	if l.Observed() < minLearned {
		return a
	}
	c := modelChange(s, ch, p, o.cfg.Now())
	sc := l.Score(c)
	learned := risk.Learned{Score: sc.Score, ModelShare: sc.ModelShare, Changes: l.Observed(),
		Decides: !p.Thresholds.Explicit, FastPathShare: p.Learning.FastPathShare}
	for _, r := range l.Explain(c, sc, reasonsShown) {
		learned.Reasons = append(learned.Reasons, risk.LearnedReason{Summary: r.Summary, Paths: r.Paths})
	}
	o.cfg.Logger.InfoContext(ctx, "learned score", slog.Float64("percentile", sc.Score), slog.Float64("model_share", sc.ModelShare))
	return a.WithLearned(learned)
}

// modelChange is what the learner knows of a pull request or push, as
// it knew the commits it learned from: the author by email, the title.
func modelChange(s Subject, ch change.Change, p policy.Policy, now time.Time) riskmodel.Change {
	c := calibrate.Commit{SHA: ch.Head, Date: now, Subject: s.Title}
	if len(ch.Commits) > 0 {
		last := ch.Commits[len(ch.Commits)-1]
		c.Author = last.Email
		if c.Subject == "" {
			c.Subject = last.Subject
		}
	}
	if s.Number > 0 {
		c.PR = &s.Number
	}
	for _, f := range ch.Files {
		status := ""
		if f.Status == change.Added {
			status = "A"
		}
		c.Files = append(c.Files, calibrate.File{Path: f.Path, Added: f.Additions, Deleted: f.Deletions, Status: status, OldPath: f.PreviousPath})
	}
	return calibrate.ModelChange(c, calibrate.RulePoints(c, p))
}

// learnAfterPush learns what a push to the default branch added; learning
// is best effort (the next push catches up), but a model saved by another
// job in between is retried.
func (o *Agent) learnAfterPush(ctx context.Context, s Subject, pol policy.Loaded) error {
	if !pol.Usable() {
		return nil
	}
	err := o.Learn(ctx, s, s.BaseRef, pol.Policy)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, assessment.ErrStaleModel), ctx.Err() != nil:
		return fmt.Errorf("learn history: %w", err)
	}
	o.cfg.Logger.WarnContext(ctx, "could not learn the push's history; the next push catches up", "err", err)
	return nil
}
