package riskagent

import (
	"context"
	"errors"

	"github.com/ferry-ci/ferry/internal/assessment"
	"github.com/ferry-ci/ferry/internal/risk"
)

// ChangeRisk is ferry's latest assessment of one change, for summaries of
// several (a production-deploy pull request).
type ChangeRisk struct {
	Proposal // Assessed false: none (nothing else is set)
	Level    risk.Level
	Score    int
	Top      string // the largest reason's summary, plain text ("" none)
}

// RiskOf is the latest assessment of a change: its pull request's (number
// > 0) at whatever head it was merged from, else the push of sha.
func (o *Agent) RiskOf(ctx context.Context, repositoryID int64, number int, sha string) (ChangeRisk, error) {
	var (
		row assessment.Record
		err error
	)
	if number > 0 {
		row, err = o.deps.Assessments.LatestAssessment(ctx, repositoryID, number, "")
	}
	if number == 0 || errors.Is(err, assessment.ErrNotFound) {
		row, err = o.deps.Assessments.AssessmentOf(ctx, repositoryID, 0, sha)
	}
	if errors.Is(err, assessment.ErrNotFound) {
		return ChangeRisk{}, nil
	}
	if err != nil {
		return ChangeRisk{}, err
	}
	var rec record
	if err := decode(row, &rec); err != nil || rec.Route == nil || rec.Assessment == nil {
		return ChangeRisk{}, err
	}
	out := ChangeRisk{Proposal: Proposal{Assessed: true, Strategy: rec.Route.Deploy, Watch: rec.Route.Watch},
		Level: rec.Assessment.Level, Score: rec.Assessment.Score}
	if rec.Route.Approval {
		out.NeedHuman = append(out.NeedHuman, rec.Route.ApprovalReasons...)
	}
	if len(rec.Assessment.Reasons) > 0 {
		out.Top = rec.Assessment.Reasons[0].Summary
	}
	return out, nil
}
