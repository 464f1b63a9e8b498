package riskagent

import (
	"context"
	"fmt"

	"github.com/ferry-ci/ferry/internal/assessment"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/render"
)

// maxAnnotations bounds one check run's annotations (GitHub takes 50 per
// request; past this, the summary lists the rest).
const maxAnnotations = 150

// Buttons on the check run; a press arrives as check_run requested_action
// with the identifier and goes through the same gate as the command.
var (
	buttonApprove  = forge.Button{Label: "Approve", Description: "Approve this head commit", Identifier: "approve"}
	buttonReassess = forge.Button{Label: "Re-assess", Description: "Assess this pull request again", Identifier: "risk"}
	buttonPause    = forge.Button{Label: "Pause ferry", Description: "Stop ferry's automated actions", Identifier: "pause"}
)

// control reads what people did about a pull request: a pause, approvals.
func (o *Agent) control(ctx context.Context, s Subject) (render.Control, error) {
	var c render.Control
	p, err := o.deps.Control.Paused(ctx, s.RepositoryID, "")
	if err != nil {
		return c, err
	}
	if p != nil {
		c.Paused = &render.Pause{By: p.By, Reason: p.Reason}
	}
	if s.Number == 0 {
		return c, nil
	}
	approvals, err := o.deps.Control.Approvals(ctx, s.RepositoryID, s.Number)
	if err != nil {
		return c, err
	}
	for _, a := range approvals {
		if a.HeadSHA == s.HeadSHA {
			c.Approved = append(c.Approved, a.By)
		} else {
			c.Void = append(c.Void, render.VoidApproval{By: a.By, Head: a.HeadSHA})
		}
	}
	return c, nil
}

// present renders the comment body and the check run of a record.
func (o *Agent) present(s Subject, rec record, ctl render.Control) (string, forge.CheckRun, error) {
	run := forge.CheckRun{Name: CheckName, HeadSHA: s.HeadSHA, Status: "completed", ExternalID: s.ID}
	if rec.Assessment == nil {
		body, err := o.render.InvalidPolicy(render.InvalidPolicyView{Path: policy.Path, Ref: s.BaseRef, Problems: rec.Problems})
		run.Conclusion, run.Title, run.Summary = "failure", policy.Path+" is not valid", body
		for _, p := range rec.Problems {
			run.Annotations = append(run.Annotations, forge.Annotation{Path: policy.Path, StartLine: max(p.Line, 1),
				Level: "failure", Title: "invalid policy", Message: p.Message})
		}
		return body, run, err
	}
	a, plan := *rec.Assessment, *rec.Route
	v := render.NewRiskView(a, plan, s.HeadSHA, rec.PolicySource, rec.Files, rec.Previous)
	v.Control, v.Dockerfiles = ctl, rec.Dockerfiles
	body, err := o.render.RiskMarkdown(v)
	run.Conclusion, run.Summary, run.Text = plan.CheckConclusion, body, checkText(plan, rec.Tests)
	if plan.Approval && len(ctl.Approved) > 0 && run.Conclusion == "action_required" {
		run.Conclusion = "success" // the human the policy asked for has approved this head
	}
	if s.Number > 0 {
		if plan.Approval && len(ctl.Approved) == 0 {
			run.Buttons = append(run.Buttons, buttonApprove)
		}
		run.Buttons = append(run.Buttons, buttonReassess, buttonPause)
	}
	run.Title = fmt.Sprintf("%s risk (%d/100)", a.Level, a.Score)
	run.Annotations = dockerfileAnnotations(rec.Dockerfiles)
	for _, r := range a.Reasons {
		for _, e := range r.Evidence {
			if e.Line == 0 || len(run.Annotations) == maxAnnotations {
				continue
			}
			msg := r.Summary
			if e.Note != "" {
				msg += ": " + e.Note
			}
			run.Annotations = append(run.Annotations, forge.Annotation{Path: e.Path, StartLine: e.Line, EndLine: e.Line,
				Level: "warning", Title: fmt.Sprintf("%s (+%g)", r.Rule, r.Weight), Message: msg})
		}
	}
	return body, run, err
}

// checkRun creates the assessment's check run once. That a create is
// coming is recorded first; if an attempt died between GitHub's answer and
// recording the id, the run is found by its external id (the assessment's)
// and brought up to date instead of created again.
func (o *Agent) checkRun(ctx context.Context, gh Publisher, s Subject, row assessment.Record, run forge.CheckRun) error {
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
		return o.deps.Publications.SetCheckRun(ctx, row.ID, id)
	}
	if err := o.deps.Publications.CheckRunStarting(ctx, row.ID); err != nil {
		return err
	}
	if id, err = gh.CreateCheckRun(ctx, s.Owner, s.Repo, run); err != nil {
		return err
	}
	return o.deps.Publications.SetCheckRun(ctx, row.ID, id)
}
