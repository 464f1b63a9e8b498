package deployagent

import (
	"context"
	"fmt"
	"time"

	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/render"
)

// report keeps the deploy's progress comment on its pull request current:
// strategy and why, every step with its state and time. Best effort: a
// failure to comment never stops a deploy.
func (a *Agent) report(ctx context.Context, id string) {
	d, err := a.deploys.GetDeploy(ctx, id)
	if err != nil || d.Number == 0 {
		return
	}
	body, err := a.progress(ctx, d)
	if err == nil {
		_, err = a.github(d.InstallationID).UpsertComment(ctx, owner(&d), repo(&d), d.Number, "deploy-"+d.Environment, body)
	}
	if err != nil {
		a.cfg.Logger.WarnContext(ctx, "could not update the deploy comment", "err", err)
	}
}

func (a *Agent) progress(ctx context.Context, d deploy.Deploy) (string, error) {
	v := render.DeployView{ID: d.ID, Kind: string(d.Kind), Short: short(d.SHA), Environment: d.Environment, Status: string(d.Status),
		Badge: map[deploy.Status]string{deploy.Succeeded: "✅", deploy.Failed: "❌"}[d.Status], Strategy: string(d.Strategy),
		Reasons: d.Reasons, Actor: d.Actor, Message: d.Message}
	if v.Badge == "" {
		v.Badge = "🚢"
	}
	now := a.cfg.Now()
	if !d.StartedAt.IsZero() {
		end := now
		if !d.FinishedAt.IsZero() {
			end = d.FinishedAt
		}
		v.Elapsed = end.Sub(d.StartedAt).Round(100 * time.Millisecond).String()
	}
	if len(d.Plan) > 0 {
		p, err := decodePlan(d)
		if err != nil {
			return "", err
		}
		recorded, err := a.stepLog.DeploySteps(ctx, d.ID)
		if err != nil {
			return "", err
		}
		for n, s := range p.Steps {
			row := render.DeployStepView{N: n + 1, Note: s.Note, State: "pending"}
			if r, ok := stepRecord(recorded, n); ok {
				end := now
				row.State = "running"
				if !r.DoneAt.IsZero() {
					end, row.State = r.DoneAt, "done"
				}
				row.Took = fmt.Sprint(end.Sub(r.AppliedAt).Round(100 * time.Millisecond))
			}
			v.Steps = append(v.Steps, row)
		}
	}
	return a.render.Deploy(v)
}
