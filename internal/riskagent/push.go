package riskagent

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/assessment"
	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/logctx"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
)

// PushCommit is a commit of a push with the paths it touched.
type PushCommit struct {
	SHA     string
	Message string
	At      time.Time
	Paths   []string
}

// zeroSHA is a push's "before" for a new branch.
var zeroSHA = strings.Repeat("0", 40)

// CreatesBranch reports whether a push creates its branch: there is nothing
// to compare it with (and no policy before it).
func CreatesBranch(s Subject) bool { return s.BaseSHA == zeroSHA || s.BaseSHA == "" }

// Push assesses a push to the default branch (BaseSHA = before, HeadSHA =
// after) under pol (the policy at before): a check run on the pushed
// commit, no comment or label. It also learns the push's history: which
// paths changed, and which a revert touched.
func (o *Agent) Push(ctx context.Context, s Subject, commits []PushCommit, pol policy.Loaded) error {
	ctx = logctx.With(ctx, slog.String("head", s.HeadSHA))
	if CreatesBranch(s) {
		o.cfg.Logger.InfoContext(ctx, "push creates the branch: nothing to compare with")
		return o.learn(ctx, s, commits)
	}
	row, err := o.deps.Assessments.GetAssessment(ctx, s.ID)
	var rec record
	switch {
	case err == nil && row.Published:
		return o.learnAfterPush(ctx, s, pol)
	case err == nil:
		err = decode(row, &rec)
	case errors.Is(err, assessment.ErrNotFound):
		row, rec, err = o.decidePush(ctx, s, pol)
	}
	if err != nil {
		return err
	}
	// Learned after deciding: the history rule must see only the past.
	if err := o.learn(ctx, s, commits); err != nil {
		return err
	}
	if err := o.publishPush(ctx, s, row, rec); err != nil {
		return err
	}
	// Learned last: the model scored this push with what came before it,
	// and reading a long history never delays the check run.
	return o.learnAfterPush(ctx, s, pol)
}

// publishPush records the push's decision and publishes its check run
// (unless paused: then it waits for resume).
func (o *Agent) publishPush(ctx context.Context, s Subject, row assessment.Record, rec record) error {
	if err := o.deps.Audit.RecordDecision(ctx, decision(row, rec), 0); err != nil {
		return err
	}
	ctl, err := o.control(ctx, s)
	if err != nil {
		return err
	}
	if ctl.Paused != nil {
		o.cfg.Logger.InfoContext(ctx, "paused: push assessment waits", "paused_by", ctl.Paused.By)
		return nil
	}
	_, run, err := o.present(s, rec, ctl)
	if err != nil {
		return err
	}
	if err := o.checkRun(ctx, o.deps.Publisher(s.InstallationID), s, row, run); err != nil {
		return err
	}
	if err := o.deps.Publications.PublishAssessment(ctx, row.ID, 0, o.cfg.Now()); err != nil {
		return err
	}
	o.logPublished(ctx, rec)
	return nil
}

func (o *Agent) decidePush(ctx context.Context, s Subject, pol policy.Loaded) (assessment.Record, record, error) {
	rec := recordOf(pol)
	if pol.Usable() {
		ch, err := o.deps.Changes(s.InstallationID).CompareChange(ctx, s.Owner, s.Repo, s.BaseSHA, s.HeadSHA)
		if err != nil {
			return assessment.Record{}, rec, err
		}
		if err := o.assess(ctx, s, ch, pol.Policy, risk.Push, &rec); err != nil {
			return assessment.Record{}, rec, err
		}
	}
	return o.save(ctx, s, assessment.Push, rec)
}

// learn records the push's commits as path history; a revert marks the
// paths it touched as trouble.
func (o *Agent) learn(ctx context.Context, s Subject, commits []PushCommit) error {
	var events []assessment.PathEvent
	for _, c := range commits {
		_, revert := change.Reverts(c.Message)
		for _, p := range c.Paths {
			events = append(events, assessment.PathEvent{SHA: c.SHA, Path: p, At: c.At})
			if revert {
				events = append(events, assessment.PathEvent{SHA: c.SHA, Path: p, At: c.At, Incident: true})
			}
		}
	}
	return o.deps.History.RecordPathEvents(ctx, s.RepositoryID, events)
}
