package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/command"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/render"
	"github.com/ferry-ci/ferry/internal/riskagent"
)

// outcome is what one command did.
type outcome struct {
	output  string // for the audit trail (plain text)
	refused bool
	reply   render.ReplyPart // for the person (zero: nothing to say)
}

// refused is a command ferry will not carry out: why is plain text.
func refused(why string) outcome {
	return outcome{output: why, refused: true, reply: render.ReplyPart{Refused: why}}
}

// access is what the gate knows about the person, and the policy of the
// default branch — read once for every command of the comment.
type access struct {
	perm   command.Permission
	fork   bool
	policy policy.Loaded
}

// runCommands acts on a person's commands in order: 👀 on receipt, then
// 🚀 when all went through or 😕 with a one-line reason each.
func (a *App) runCommands(ctx context.Context, r request, cmds []command.Command, errs []*command.UsageError) error {
	gh := a.github(r.installation)
	if r.commentID != 0 {
		if err := gh.React(ctx, r.owner, r.repo, r.commentID, "eyes"); err != nil {
			return err
		}
	}
	pr, acc, err := a.who(ctx, &r)
	if err != nil {
		return err
	}
	var parts []render.ReplyPart
	failed := false
	for i, ue := range errs {
		// The person's line is not echoed back: only what is wrong with it.
		parts, failed = append(parts, render.ReplyPart{Refused: ue.Error()}), true
		d := a.commandDecision(r, len(cmds)+i, command.Command{Text: ue.Text}, "refused: "+ue.Msg)
		if err := a.audit.RecordDecision(ctx, d, r.number); err != nil {
			return err
		}
	}
	for i, c := range cmds {
		out, err := a.runOne(ctx, r, pr, acc, i, c)
		if err != nil {
			return err
		}
		failed = failed || out.refused
		if !out.reply.Empty() {
			parts = append(parts, out.reply)
		}
	}
	return a.answer(ctx, r, parts, failed)
}

// who reads the pull request the command is about (binding a comment to
// the head it was written on), the person's role and the default branch's
// policy.
func (a *App) who(ctx context.Context, r *request) (*forge.PullRequest, access, error) {
	gh := a.github(r.installation)
	var pr *forge.PullRequest
	if r.isPR {
		p, err := gh.PullRequest(ctx, r.owner, r.repo, r.number)
		if err != nil {
			return nil, access{}, err
		}
		pr = &p
		if r.headSHA == "" {
			// A comment binds to the head it was written on: the head
			// ferry last saw before it, else the current one.
			if r.headSHA, err = a.control.HeadAt(ctx, r.repoID, r.number, r.at); err != nil {
				return nil, access{}, err
			}
			if r.headSHA == "" {
				r.headSHA = p.HeadSHA
			}
		}
	}
	perm, err := a.perms.get(ctx, gh, *r)
	if err != nil {
		return nil, access{}, err
	}
	fork := pr != nil && pr.HeadRepo != "" && !strings.EqualFold(pr.HeadRepo, r.fullName()) && strings.EqualFold(pr.Author, r.actor)
	if fork {
		perm = min(perm, command.Read)
	}
	pol, err := a.defaultPolicy(ctx, r.installation, r.owner, r.repo, r.branch)
	return pr, access{perm: perm, fork: fork, policy: pol}, err
}

func (a *App) answer(ctx context.Context, r request, parts []render.ReplyPart, failed bool) error {
	gh := a.github(r.installation)
	if len(parts) > 0 {
		key := "reply-" + strconv.FormatInt(r.commentID, 10)
		if r.commentID == 0 {
			key = "reply-" + r.delivery
		}
		body, err := a.render.Reply(render.ReplyView{Actor: r.actor, Parts: parts})
		if err != nil {
			return err
		}
		if _, err := gh.UpsertComment(ctx, r.owner, r.repo, r.number, key, body); err != nil {
			return err
		}
	}
	if r.commentID == 0 {
		return nil
	}
	reaction := "rocket"
	if failed {
		reaction = "confused"
	}
	return gh.React(ctx, r.owner, r.repo, r.commentID, reaction)
}

// runOne gates one command, runs it, and records the decision.
func (a *App) runOne(ctx context.Context, r request, pr *forge.PullRequest, acc access, i int, c command.Command) (outcome, error) {
	paused, err := a.control.Paused(ctx, r.repoID, c.Arg(0))
	if err != nil {
		return outcome{}, err
	}
	if why := gate(c, r, acc.perm, acc.fork, paused, acc.policy); why != "" {
		out := refused(why)
		out.output = "refused: " + why
		return out, a.audit.RecordDecision(ctx, a.commandDecision(r, i, c, out.output), r.number)
	}
	d := a.commandDecision(r, i, c, "")
	out, err := a.execute(ctx, r, pr, acc, d, c)
	if err != nil {
		return outcome{}, err
	}
	if out.refused {
		out.output = "refused: " + out.output
	}
	d.Output = out.output
	switch c.Verb() {
	case "pause", "resume", "approve":
		return out, nil // recorded with their effect, in one transaction
	}
	return out, a.audit.RecordDecision(ctx, d, r.number)
}

// execute runs an allowed command.
func (a *App) execute(ctx context.Context, r request, pr *forge.PullRequest, acc access, d audit.Decision, c command.Command) (outcome, error) {
	switch c.Verb() {
	case "help":
		return outcome{output: "help shown", reply: render.ReplyPart{Help: command.Specs}}, nil
	case "risk":
		s := a.subject(r, pr, d.ID)
		return outcome{output: "re-assessed " + audit.PullRequestSubject(r.number, pr.HeadSHA)}, a.assess(ctx, s)
	case "explain":
		return a.explain(ctx, r, c.Arg(0))
	case "approve":
		return a.approve(ctx, r, pr, d)
	case "pause":
		out, err := a.pause(ctx, r, d, c)
		if err == nil && pr != nil {
			// Show it at once: the comment gets the banner; the assessment
			// waits, and is published on resume.
			err = a.assess(ctx, a.subject(r, pr, d.ID))
		}
		return out, err
	case "resume":
		return a.resume(ctx, r, acc.policy, d)
	case "deploy", "rollback":
		return a.deploy(ctx, r, pr, acc.policy, d, c)
	case "feedback":
		return a.feedback(ctx, r, c)
	case "changelog":
		return a.changelog(ctx, r, pr, acc.policy)
	case "quarantine":
		return a.quarantine(ctx, r, acc.policy, c.Arg(0))
	case "optimize-dockerfile":
		return a.optimizeDockerfile(ctx, r, c.Arg(0))
	case "test":
		return a.writeTests(ctx, r, pr)
	}
	return outcome{}, event.Permanent(fmt.Errorf("command %q has no handler", c.Verb()))
}

func (a *App) subject(r request, pr *forge.PullRequest, id string) riskagent.Subject {
	return riskagent.Subject{ID: id, InstallationID: r.installation, RepositoryID: r.repoID, Owner: r.owner, Repo: r.repo,
		Number: r.number, BaseRef: pr.BaseRef, BaseSHA: pr.BaseSHA, HeadSHA: pr.HeadSHA, EventAt: pr.UpdatedAt,
		Labels: pr.Labels, CloneURL: pr.CloneURL}
}
