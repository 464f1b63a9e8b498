package orchestrator

import (
	"context"
	"fmt"

	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/render"
	"github.com/ferry-ci/ferry/internal/store"
)

// maxAnnotations bounds one check run's annotations (GitHub takes 50 per
// request; past this, the summary lists the rest).
const maxAnnotations = 150

// present renders the comment body and the check run of a record.
func (o *Orchestrator) present(s Subject, rec record) (string, github.CheckRun, error) {
	run := github.CheckRun{Name: CheckName, HeadSHA: s.HeadSHA, Status: "completed", ExternalID: s.ID}
	if rec.Assessment == nil {
		body, err := o.render.InvalidPolicy(render.InvalidPolicyView{Path: policy.Path, Ref: s.BaseRef, Problems: rec.Problems})
		run.Conclusion, run.Title, run.Summary = "failure", policy.Path+" is not valid", body
		for _, p := range rec.Problems {
			run.Annotations = append(run.Annotations, github.Annotation{Path: policy.Path, StartLine: max(p.Line, 1),
				Level: "failure", Title: "invalid policy", Message: p.Message})
		}
		return body, run, err
	}
	a, plan := *rec.Assessment, *rec.Route
	body, err := o.render.RiskMarkdown(render.NewRiskView(a, plan, s.HeadSHA, rec.PolicySource, rec.Files, rec.Previous))
	run.Conclusion, run.Summary = plan.CheckConclusion, body
	run.Title = fmt.Sprintf("%s risk (%d/100)", a.Level, a.Score)
	for _, r := range a.Reasons {
		for _, e := range r.Evidence {
			if e.Line == 0 || len(run.Annotations) == maxAnnotations {
				continue
			}
			msg := r.Summary
			if e.Note != "" {
				msg += ": " + e.Note
			}
			run.Annotations = append(run.Annotations, github.Annotation{Path: e.Path, StartLine: e.Line, EndLine: e.Line,
				Level: "warning", Title: fmt.Sprintf("%s (+%g)", r.Rule, r.Weight), Message: msg})
		}
	}
	return body, run, err
}

// checkRun creates the assessment's check run once. That a create is
// coming is recorded first; if an attempt died between GitHub's answer and
// recording the id, the run is found by its external id (the assessment's)
// and brought up to date instead of created again.
func (o *Orchestrator) checkRun(ctx context.Context, gh GitHub, s Subject, row store.Assessment, run github.CheckRun) error {
	id := row.CheckRunID
	var err error
	if id == 0 && row.CheckRunStarted {
		if id, err = gh.FindCheckRun(ctx, s.Owner, s.Repo, s.HeadSHA, CheckName, row.ID); err != nil {
			return err
		}
	}
	if id != 0 {
		run.Annotations = nil // updates add annotations; it has them
		if err := gh.UpdateCheckRun(ctx, s.Owner, s.Repo, id, run); err != nil {
			return err
		}
		return o.store.SetCheckRun(ctx, row.ID, id)
	}
	if err := o.store.CheckRunStarting(ctx, row.ID); err != nil {
		return err
	}
	if id, err = gh.CreateCheckRun(ctx, s.Owner, s.Repo, run); err != nil {
		return err
	}
	return o.store.SetCheckRun(ctx, row.ID, id)
}
