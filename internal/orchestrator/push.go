package orchestrator

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/logctx"
	"github.com/ferry-ci/ferry/internal/risk"
	"github.com/ferry-ci/ferry/internal/store"
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

// Push assesses a push to the default branch (BaseSHA = before, HeadSHA =
// after): a check run on the pushed commit, no comment or label. It also
// learns the push's history: which paths changed, and which a revert
// touched.
func (o *Orchestrator) Push(ctx context.Context, s Subject, commits []PushCommit) error {
	ctx = logctx.With(ctx, slog.String("head", s.HeadSHA))
	if s.BaseSHA == zeroSHA || s.BaseSHA == "" {
		o.cfg.Logger.InfoContext(ctx, "push creates the branch: nothing to compare with")
		return o.learn(ctx, s, commits)
	}
	row, err := o.store.GetAssessment(ctx, s.ID)
	var rec record
	switch {
	case err == nil && row.Published:
		return nil
	case err == nil:
		err = decode(row, &rec)
	case errors.Is(err, store.ErrNotFound):
		row, rec, err = o.decidePush(ctx, s)
	}
	if err != nil {
		return err
	}
	// Learned after deciding: the history rule must see only the past.
	if err := o.learn(ctx, s, commits); err != nil {
		return err
	}
	if err := o.store.RecordDecision(ctx, decision(row, rec), 0); err != nil {
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
	if err := o.checkRun(ctx, o.github(s.InstallationID), s, row, run); err != nil {
		return err
	}
	if err := o.store.PublishAssessment(ctx, row.ID, 0, o.cfg.Now()); err != nil {
		return err
	}
	o.logPublished(ctx, rec)
	return nil
}

func (o *Orchestrator) decidePush(ctx context.Context, s Subject) (store.Assessment, record, error) {
	gh := o.github(s.InstallationID)
	p, rec, err := o.loadPolicy(ctx, gh, s)
	if err != nil {
		return store.Assessment{}, rec, err
	}
	if rec.Problems == nil {
		ch, err := gh.CompareChange(ctx, s.Owner, s.Repo, s.BaseSHA, s.HeadSHA)
		if err != nil {
			return store.Assessment{}, rec, err
		}
		if err := o.assess(ctx, s, ch, p, risk.Push, &rec); err != nil {
			return store.Assessment{}, rec, err
		}
	}
	return o.save(ctx, s, "push", rec)
}

// learn records the push's commits as path history; a revert marks the
// paths it touched as trouble.
func (o *Orchestrator) learn(ctx context.Context, s Subject, commits []PushCommit) error {
	var events []store.PathEvent
	for _, c := range commits {
		_, revert := change.Reverts(c.Message)
		for _, p := range c.Paths {
			events = append(events, store.PathEvent{SHA: c.SHA, Path: p, At: c.At})
			if revert {
				events = append(events, store.PathEvent{SHA: c.SHA, Path: p, At: c.At, Incident: true})
			}
		}
	}
	return o.store.RecordPathEvents(ctx, s.RepositoryID, events)
}
