package deployagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/deploygate"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/policy"
)

// GateStepName is the job queue's name of the step that answers a
// deployment protection rule request.
const GateStepName = "gate"

// Reviewer answers protection rule requests on one installation's GitHub,
// and finds the pull request a merge commit came from.
type Reviewer interface {
	ReviewGate(ctx context.Context, owner, repo string, runID int64, environment, state, comment string) error
	CommitPullRequests(ctx context.Context, owner, repo, sha string) ([]forge.PullRequest, error)
}

// Gates keeps protection rule requests and how far each answer is.
type Gates interface {
	GetGate(ctx context.Context, id string) (deploy.Gate, error)
	GateNote(ctx context.Context, id, note string) error
	GateAnswering(ctx context.Context, id, answer, comment string) error
	GateAnswered(ctx context.Context, id string, at time.Time) error
	RolledBackAt(ctx context.Context, repositoryID int64, sha string) (string, error)
}

// GateRequest is what the application fixed when GitHub asked: the
// environment from the default branch's policy (a default one that needs
// a human when the policy does not name it), whether that policy was
// invalid, why the risk route wants a human, and the checks that apply.
type GateRequest struct {
	Env            policy.Environment `json:"env"`
	Invalid        bool               `json:"invalid,omitempty"`
	NeedHuman      []string           `json:"need_human,omitempty"`
	Branch         string             `json:"branch"`
	RequiredChecks []string           `json:"required_checks,omitempty"`
}

// gateDeadline is how long GitHub waits for a custom protection rule.
const gateDeadline = 30 * 24 * time.Hour

// gatePoll is how soon a request waiting for a person or for checks is
// looked at again.
const gatePoll = 3 * time.Second

// Gate records a protection rule request and the job that answers it (a
// redelivery adds nothing).
func (a *Agent) Gate(ctx context.Context, g deploy.Gate, r GateRequest) error {
	if a.gates == nil {
		return fmt.Errorf("ferry answers no protection rules here")
	}
	r.NeedHuman = needsHuman(Request{NeedHuman: r.NeedHuman}, r.Env)
	var err error
	if g.Request, err = json.Marshal(r); err != nil {
		return err
	}
	g.State, g.CreatedAt = deploy.GateWaiting, a.cfg.Now()
	_, err = a.scheduler().CreateGate(ctx, g, GateStepName, g.ID)
	return err
}

// GateStep decides a protection rule request — approve, reject, or not
// yet (looked at again) — and sends the answer, recorded first: a retry
// after a crash sends the same answer, and GitHub gets one.
func (a *Agent) GateStep(ctx context.Context, id string) (time.Duration, error) {
	g, err := a.gates.GetGate(ctx, id)
	if err != nil {
		return 0, err
	}
	switch g.State {
	case deploy.GateAnswered:
		return 0, nil
	case deploy.GateAnswering:
		return 0, a.sendGate(ctx, g)
	case deploy.GateWaiting:
	}
	v, err := a.decideGate(ctx, g)
	if err != nil {
		return 0, err
	}
	if v.Answer == deploygate.Wait {
		return a.waitGate(ctx, g, v)
	}
	comment := string(v.Answer) + " by ferry: " + v.Why + " (decision gate-" + g.ID + ")"
	dec := audit.Decision{ID: "gate-" + g.ID, At: a.cfg.Now(), RepositoryID: g.RepositoryID, Repository: g.Repository,
		Subject: "env:" + g.Environment + "@" + short(g.SHA), Kind: audit.KindDeploy, Actor: audit.Ferry,
		InputsDigest: audit.Digest([]any{g.ID, g.SHA, g.Environment, string(g.Request)}),
		Output:       "protection rule " + string(v.Answer) + ": " + v.Why,
		Reasons:      []audit.Reason{{Rule: "protection-rule", Summary: v.Why, Evidence: []string{fmt.Sprintf("run %d", g.RunID)}}}}
	if err := a.audit.RecordDecision(ctx, dec, g.Number); err != nil {
		return 0, err
	}
	if err := a.gates.GateAnswering(ctx, g.ID, string(v.Answer), comment); err != nil {
		return 0, err
	}
	g.State, g.Answer, g.Comment = deploy.GateAnswering, string(v.Answer), comment
	return 0, a.sendGate(ctx, g)
}

// waitGate says on the run why it waits (once per reason) and when ferry
// looks again.
func (a *Agent) waitGate(ctx context.Context, g deploy.Gate, v deploygate.Verdict) (time.Duration, error) {
	note := "waiting: " + v.Why
	if note != g.Note {
		o, r, _ := cut(g.Repository)
		if err := a.reviewer(g.InstallationID).ReviewGate(ctx, o, r, g.RunID, g.Environment, "", note+" — ferry answers when that changes"); err != nil {
			a.cfg.Logger.WarnContext(ctx, "could not say why a protection rule waits", "gate", g.ID, "err", err)
		} else if err := a.gates.GateNote(ctx, g.ID, note); err != nil {
			return 0, err
		}
	}
	if !v.Until.IsZero() {
		return min(max(v.Until.Sub(a.cfg.Now()), time.Second), time.Hour), nil
	}
	return gatePoll, nil
}

// sendGate sends the recorded answer. GitHub refusing it as unprocessable
// means the run has its answer already (ours, sent before a crash, or the
// run ended): nothing more to send.
func (a *Agent) sendGate(ctx context.Context, g deploy.Gate) error {
	o, r, _ := cut(g.Repository)
	err := a.reviewer(g.InstallationID).ReviewGate(ctx, o, r, g.RunID, g.Environment, g.Answer, g.Comment)
	if err != nil && !errors.Is(err, forge.ErrGateClosed) {
		return err
	}
	if err != nil {
		a.cfg.Logger.InfoContext(ctx, "GitHub has this protection rule's answer already", "gate", g.ID, "err", err)
	}
	return a.gates.GateAnswered(ctx, g.ID, a.cfg.Now())
}

// decideGate gathers the facts and decides.
func (a *Agent) decideGate(ctx context.Context, g deploy.Gate) (deploygate.Verdict, error) {
	var r GateRequest
	if err := json.Unmarshal(g.Request, &r); err != nil {
		return deploygate.Verdict{}, fmt.Errorf("gate %s: %w", g.ID, err)
	}
	req := deploygate.Request{Environment: g.Environment, Invalid: r.Invalid, Freezes: r.Env.Freezes, Now: a.cfg.Now(),
		Deadline: g.CreatedAt.Add(gateDeadline)}
	p, err := a.control.Paused(ctx, g.RepositoryID, g.Environment)
	if err != nil {
		return deploygate.Verdict{}, err
	}
	if p != nil {
		req.Paused = "ferry is paused (by " + p.By + ")"
		if p.Reason != "" {
			req.Paused += ": " + p.Reason
		}
	}
	if req.RolledBack, err = a.gates.RolledBackAt(ctx, g.RepositoryID, g.SHA); err != nil {
		return deploygate.Verdict{}, err
	}
	d, err := a.gateSubject(ctx, g)
	if err != nil {
		return deploygate.Verdict{}, err
	}
	if req.Gate, err = a.facts(ctx, d, approval{Reasons: r.NeedHuman, Branch: r.Branch, RequiredChecks: r.RequiredChecks}); err != nil {
		return deploygate.Verdict{}, err
	}
	req.Gate.SHA = d.SHA
	return deploygate.Protect(req), nil
}

// gateSubject is what approvals bind to: the pull request whose head is
// the commit, or — for a merge commit on the default branch — the merged
// pull request it came from and its head, as reviewed.
func (a *Agent) gateSubject(ctx context.Context, g deploy.Gate) (deploy.Deploy, error) {
	d := deploy.Deploy{SHA: g.SHA, Number: g.Number, InstallationID: g.InstallationID, RepositoryID: g.RepositoryID, Repository: g.Repository}
	if d.Number != 0 {
		return d, nil
	}
	o, r, _ := cut(g.Repository)
	prs, err := a.reviewer(g.InstallationID).CommitPullRequests(ctx, o, r, g.SHA)
	if err != nil {
		return d, err
	}
	for _, pr := range prs {
		if pr.Merged && pr.MergeCommitSHA == g.SHA {
			d.Number, d.SHA = pr.Number, pr.HeadSHA
			break
		}
	}
	return d, nil
}
