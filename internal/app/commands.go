package app

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/command"
	"github.com/ferry-ci/ferry/internal/event"
	ghadapter "github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/md"
	"github.com/ferry-ci/ferry/internal/orchestrator"
	"github.com/ferry-ci/ferry/internal/store"
)

// routeCommands adds comments and check-run buttons.
func (a *App) routeCommands() {
	a.routes[route{"issue_comment", "created"}] = a.issueComment
	a.routes[route{"issue_comment", "edited"}] = a.issueComment
	a.routes[route{"check_run", "requested_action"}] = a.checkRunAction
}

func (a *App) issueComment(ctx context.Context, d event.Delivery, payload any) error {
	e, ok := payload.(*github.IssueCommentEvent)
	if !ok {
		return event.Permanent(fmt.Errorf("issue_comment: unexpected payload %T", payload))
	}
	cmds, errs := command.Parse(e.GetComment().GetBody())
	if len(cmds) == 0 && len(errs) == 0 {
		return nil // most comments
	}
	r := request{delivery: d.ID, installation: e.GetInstallation().GetID(), repoID: e.GetRepo().GetID(),
		owner: e.GetRepo().GetOwner().GetLogin(), repo: e.GetRepo().GetName(), number: e.GetIssue().GetNumber(),
		isPR: e.GetIssue().IsPullRequest(), actor: e.GetComment().GetUser().GetLogin(), commentID: e.GetComment().GetID(),
		at: e.GetComment().GetCreatedAt().Time, branch: e.GetRepo().GetDefaultBranch()}
	r.bot = e.GetComment().GetUser().GetType() == "Bot" || strings.HasSuffix(r.actor, "[bot]")
	if e.GetAction() == "edited" {
		// An edit could turn an old, approved comment into a new command.
		return a.refuseAll(ctx, r, cmds, "edited comments never act")
	}
	if r.bot {
		return a.refuseAll(ctx, r, cmds, "bots never trigger commands")
	}
	err := classify(a.runCommands(ctx, r, cmds, errs))
	if event.IsPermanent(err) {
		a.failed(ctx, r)
	}
	return err
}

// failed tells the person, best effort, that ferry could not finish —
// never with the internal error, which stays in the log and the delivery.
func (a *App) failed(ctx context.Context, r request) {
	gh := a.github(r.installation)
	msg := "😕 ferry could not finish this (delivery " + md.Code(r.delivery) + "); an operator can see why. Nothing after the failure was done."
	if _, err := gh.UpsertComment(ctx, r.owner, r.repo, r.number, "reply-"+strconv.FormatInt(r.commentID, 10), "@"+r.actor+"\n\n"+msg); err != nil {
		a.log.WarnContext(ctx, "could not report a failed command", "err", err)
	}
	if err := gh.React(ctx, r.owner, r.repo, r.commentID, "confused"); err != nil {
		a.log.WarnContext(ctx, "could not react to a failed command", "err", err)
	}
}

// checkRunAction handles a button on ferry's check run as the command of
// the same name.
func (a *App) checkRunAction(ctx context.Context, d event.Delivery, payload any) error {
	e, ok := payload.(*github.CheckRunEvent)
	if !ok {
		return event.Permanent(fmt.Errorf("check_run: unexpected payload %T", payload))
	}
	identifier := ""
	if e.RequestedAction != nil {
		identifier = e.RequestedAction.Identifier
	}
	spec, known := command.Lookup(identifier)
	if e.GetCheckRun().GetName() != orchestrator.CheckName || !known {
		return nil // another app's button
	}
	r := request{delivery: d.ID, installation: e.GetInstallation().GetID(), repoID: e.GetRepo().GetID(),
		owner: e.GetRepo().GetOwner().GetLogin(), repo: e.GetRepo().GetName(), actor: e.GetSender().GetLogin(),
		headSHA: e.GetCheckRun().GetHeadSHA(), at: d.ReceivedAt, branch: e.GetRepo().GetDefaultBranch()}
	r.bot = e.GetSender().GetType() == "Bot"
	cmd := command.Command{Spec: spec, Flags: map[string]bool{}, Line: 1, Text: "button: " + spec.Verb}
	prs := e.GetCheckRun().PullRequests
	if len(prs) == 0 {
		// GitHub lists the pull requests whose head is the run's commit:
		// none when commits were pushed since, or for a fork's.
		return a.refuseAll(ctx, r, []command.Command{cmd}, "this check run's commit is not the head of a pull request here (pushed since?)")
	}
	// A PR listed here may belong to another repository (this one as a
	// fork's base): only one whose base is this repository counts.
	for _, pr := range prs {
		if pr.GetBase().GetRepo().GetID() == r.repoID {
			r.number, r.isPR = pr.GetNumber(), true
			return classify(a.runCommands(ctx, r, []command.Command{cmd}, nil))
		}
	}
	return a.refuseAll(ctx, r, []command.Command{cmd}, "this check run names no pull request of this repository")
}

// refuseAll records a refusal of every command without acting or
// answering (bots, edits: answering could loop or mislead).
func (a *App) refuseAll(ctx context.Context, r request, cmds []command.Command, why string) error {
	for i, c := range cmds {
		if err := a.control.RecordDecision(ctx, a.commandDecision(r, i, c, "refused: "+why), r.number); err != nil {
			return err
		}
	}
	a.log.InfoContext(ctx, "commands refused", "actor", r.actor, "why", why, "commands", len(cmds))
	return nil
}

func (a *App) commandDecision(r request, i int, c command.Command, output string) audit.Decision {
	subject := fmt.Sprintf("#%d", r.number)
	if r.headSHA != "" {
		subject = audit.PullRequestSubject(r.number, r.headSHA)
	}
	return audit.Decision{ID: fmt.Sprintf("cmd-%s-%d", r.delivery, i), At: a.now(), RepositoryID: r.repoID, Repository: r.fullName(),
		Subject: subject, Kind: audit.KindCommand, Actor: r.actor, InputsDigest: audit.Digest([]any{c.Text, r.actor, r.headSHA}),
		Output: output}
}

// outcome is what one command did.
type outcome struct {
	output  string // for the audit trail
	refused bool
	reply   string // for the person, if anything
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
	var pr *ghadapter.PullRequest
	if r.isPR {
		p, err := gh.PullRequest(ctx, r.owner, r.repo, r.number)
		if err != nil {
			return err
		}
		pr = &p
		if r.headSHA == "" {
			// A comment binds to the head it was written on: the head
			// ferry last saw before it, else the current one.
			if r.headSHA, err = a.control.HeadAt(ctx, r.repoID, r.number, r.at); err != nil {
				return err
			}
			if r.headSHA == "" {
				r.headSHA = p.HeadSHA
			}
		}
	}
	perm, err := a.perms.get(ctx, gh, r)
	if err != nil {
		return err
	}
	fork := pr != nil && pr.HeadRepo != "" && !strings.EqualFold(pr.HeadRepo, r.fullName()) && strings.EqualFold(pr.Author, r.actor)
	if fork {
		perm = min(perm, command.Read)
	}
	pol, err := a.commandPolicy(ctx, gh, r)
	if err != nil {
		return err
	}
	var replies []string
	failed := false
	for i, ue := range errs {
		// The person's line is not echoed back: only what is wrong with it.
		replies, failed = append(replies, "😕 "+md.Text(ue.Error())), true
		d := a.commandDecision(r, len(cmds)+i, command.Command{Text: ue.Text}, "refused: "+ue.Msg)
		if err := a.control.RecordDecision(ctx, d, r.number); err != nil {
			return err
		}
	}
	for i, c := range cmds {
		out, err := a.runOne(ctx, r, pr, access{perm: perm, fork: fork, policy: pol}, i, c)
		if err != nil {
			return err
		}
		failed = failed || out.refused
		if out.reply != "" {
			replies = append(replies, out.reply)
		}
	}
	return a.answer(ctx, gh, r, replies, failed)
}

func (a *App) answer(ctx context.Context, gh CommandGitHub, r request, replies []string, failed bool) error {
	if len(replies) > 0 {
		key := "reply-" + strconv.FormatInt(r.commentID, 10)
		if r.commentID == 0 {
			key = "reply-" + r.delivery
		}
		body := "@" + r.actor + "\n\n" + strings.Join(replies, "\n\n")
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
// access is what the gate knows about the person.
type access struct {
	perm   command.Permission
	fork   bool
	policy commandPolicy
}

func (a *App) runOne(ctx context.Context, r request, pr *ghadapter.PullRequest, acc access, i int, c command.Command) (outcome, error) {
	paused, err := a.control.Paused(ctx, r.repoID, c.Arg(0))
	if err != nil {
		return outcome{}, err
	}
	if why := gate(c, r, acc.perm, acc.fork, paused, acc.policy); why != "" {
		out := refused(why)
		out.output = "refused: " + why
		return out, a.control.RecordDecision(ctx, a.commandDecision(r, i, c, out.output), r.number)
	}
	d := a.commandDecision(r, i, c, "")
	out, err := a.execute(ctx, r, pr, d, c)
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
	return out, a.control.RecordDecision(ctx, d, r.number)
}

// execute runs an allowed command.
func (a *App) execute(ctx context.Context, r request, pr *ghadapter.PullRequest, d audit.Decision, c command.Command) (outcome, error) {
	switch c.Verb() {
	case "help":
		return outcome{output: "help shown", reply: "ferry's commands:\n\n" + command.Help()}, nil
	case "risk":
		s := a.subject(r, pr, d.ID)
		return outcome{output: "re-assessed " + audit.PullRequestSubject(r.number, pr.HeadSHA)}, a.assessor.PullRequest(ctx, s)
	case "explain":
		return a.explain(ctx, r, c.Arg(0))
	case "approve":
		return a.approve(ctx, r, pr, d)
	case "pause":
		out, err := a.pause(ctx, r, d, c)
		if err == nil && pr != nil {
			// Show it at once: the comment gets the banner; the assessment
			// waits, and is published on resume.
			err = a.assessor.PullRequest(ctx, a.subject(r, pr, d.ID))
		}
		return out, err
	case "resume":
		return a.resume(ctx, r, d)
	case "deploy", "rollback":
		return a.deploy(ctx, r, pr, d, c)
	case "feedback":
		return a.feedback(ctx, r, c)
	}
	return outcome{}, event.Permanent(fmt.Errorf("command %q has no handler", c.Verb()))
}

func (a *App) subject(r request, pr *ghadapter.PullRequest, id string) orchestrator.Subject {
	return orchestrator.Subject{ID: id, InstallationID: r.installation, RepositoryID: r.repoID, Owner: r.owner, Repo: r.repo,
		Number: r.number, BaseRef: pr.BaseRef, BaseSHA: pr.BaseSHA, HeadSHA: pr.HeadSHA, EventAt: pr.UpdatedAt,
		Labels: pr.Labels, CloneURL: pr.CloneURL}
}

func (a *App) explain(ctx context.Context, r request, id string) (outcome, error) {
	all, err := a.control.Decisions(ctx, store.DecisionFilter{Repository: r.fullName(), Number: r.number, Limit: 200})
	if err != nil {
		return outcome{}, err
	}
	for _, d := range all {
		if (id == "" && d.Actor == audit.Ferry) || d.ID == id {
			return outcome{output: "explained " + d.ID, reply: d.Markdown()}, nil
		}
	}
	why := "no decision of ferry's here yet"
	if id != "" {
		why = "no decision " + strconv.Quote(truncate(id, 80)) + " on this pull request or issue"
	}
	return refused(why), nil
}

func (a *App) approve(ctx context.Context, r request, pr *ghadapter.PullRequest, d audit.Decision) (outcome, error) {
	refuse := func(why string) (outcome, error) {
		d.Output = "refused: " + why
		return refused(why), a.control.RecordDecision(ctx, d, r.number)
	}
	if pr.HeadSHA != r.headSHA {
		return refuse(audit.Short(r.headSHA) + " was the head when you asked; commits were pushed since: look, then approve again")
	}
	if strings.EqualFold(pr.Author, r.actor) {
		return refuse("the author of a pull request cannot approve it")
	}
	if pushed, err := a.pushedHead(ctx, r, pr); err != nil || pushed {
		if err != nil {
			return outcome{}, err
		}
		return refuse("you pushed " + audit.Short(pr.HeadSHA) + ": someone who did not push it must approve it")
	}
	d.Kind, d.Subject = audit.KindApproval, audit.PullRequestSubject(r.number, pr.HeadSHA)
	d.Output = "approved " + pr.HeadSHA
	if err := a.control.Approve(ctx, r.repoID, r.number, store.Approval{By: r.actor, HeadSHA: pr.HeadSHA, At: d.At}, d); err != nil {
		return outcome{}, err
	}
	// Re-assess so the comment and the check run show the approval.
	return outcome{output: d.Output}, a.assessor.PullRequest(ctx, a.subject(r, pr, d.ID))
}

// pause is repository-wide until environments exist (the deploy agent);
// every argument but a leading "all" is the reason.
func (a *App) pause(ctx context.Context, r request, d audit.Decision, c command.Command) (outcome, error) {
	args := c.Args
	if len(args) > 0 && args[0] == "all" {
		args = args[1:]
	}
	p := store.Pause{Environment: store.AllEnvironments, By: r.actor, Reason: strings.Join(args, " "), At: d.At}
	d.Kind, d.Subject = audit.KindPause, "repository"
	d.Output = "paused: " + p.Reason
	if err := a.control.SetPause(ctx, r.repoID, p, d, r.number); err != nil {
		return outcome{}, err
	}
	return outcome{output: d.Output}, nil
}

func (a *App) resume(ctx context.Context, r request, d audit.Decision) (outcome, error) {
	d.Kind, d.Subject, d.Output = audit.KindResume, "repository", "resume requested"
	resumed, err := a.control.Resume(ctx, r.repoID, store.AllEnvironments, d, r.number)
	if err != nil {
		return outcome{}, err
	}
	// What waited goes ahead now — also on a retry, when the pause is
	// already gone but publishing failed the first time.
	if err := a.assessor.PublishWaiting(ctx, r.repoID); err != nil {
		return outcome{}, err
	}
	if !resumed {
		return outcome{output: "nothing was paused", reply: "ferry was not paused here"}, nil
	}
	return outcome{output: d.Output}, nil
}

// feedback records a person's word on one of ferry's decisions here.
func (a *App) feedback(ctx context.Context, r request, c command.Command) (outcome, error) {
	verdict, id := c.Arg(0), c.Arg(1)
	if verdict != "right" && verdict != "wrong" {
		return refused("say right or wrong: /ferry " + c.Spec.Usage), nil
	}
	all, err := a.control.Decisions(ctx, store.DecisionFilter{Repository: r.fullName()})
	if err != nil {
		return outcome{}, err
	}
	for _, d := range all {
		if d.ID == id && d.Actor == audit.Ferry {
			if err := a.control.RecordOutcome(ctx, id, verdict, r.actor, a.now()); err != nil {
				return outcome{}, err
			}
			return outcome{output: "outcome of " + id + ": " + verdict}, nil
		}
	}
	return refused("no decision of ferry's " + strconv.Quote(truncate(id, 80)) + " in this repository"), nil
}

// pushedHead reports whether the person pushed the pull request's head (as
// ferry recorded the events' senders): they may not approve it.
func (a *App) pushedHead(ctx context.Context, r request, pr *ghadapter.PullRequest) (bool, error) {
	if a.heads == nil {
		return false, nil
	}
	pushers, err := a.heads.Pushers(ctx, r.repoID, r.number, pr.HeadSHA)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(pushers, func(p string) bool { return strings.EqualFold(p, r.actor) }), nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
