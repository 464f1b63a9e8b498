package app

import (
	"context"
	"fmt"
	"strconv"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/command"
	"github.com/ferry-ci/ferry/internal/event"
	ghadapter "github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/render"
	"github.com/ferry-ci/ferry/internal/riskagent"
)

// routeCommands adds comments and check-run buttons.
func (a *App) routeCommands() {
	a.routes[route{"issue_comment", "created"}] = a.issueComment
	a.routes[route{"issue_comment", "edited"}] = a.issueComment
	a.routes[route{"check_run", "requested_action"}] = a.checkRunAction
}

func (a *App) issueComment(ctx context.Context, d event.Delivery, e any) error {
	c, ok := e.(ghadapter.Comment)
	if !ok {
		return unexpected("issue_comment", e)
	}
	cmds, errs := command.Parse(c.Body)
	if len(cmds) == 0 && len(errs) == 0 {
		return nil // most comments
	}
	r := request{delivery: d.ID, installation: c.Repo.InstallationID, repoID: c.Repo.ID, owner: c.Repo.Owner, repo: c.Repo.Name,
		number: c.Number, isPR: c.IsPR, actor: c.Author.Login, bot: c.Author.Bot, commentID: c.ID, at: c.CreatedAt,
		branch: c.Repo.DefaultBranch, cloneURL: c.Repo.CloneURL, htmlURL: c.Repo.HTMLURL}
	if c.Action == "edited" {
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
	body, err := a.render.Reply(render.ReplyView{Actor: r.actor, Parts: []render.ReplyPart{{Failed: r.delivery}}})
	if err == nil {
		_, err = gh.UpsertComment(ctx, r.owner, r.repo, r.number, "reply-"+strconv.FormatInt(r.commentID, 10), body)
	}
	if err != nil {
		a.log.WarnContext(ctx, "could not report a failed command", "err", err)
	}
	if err := gh.React(ctx, r.owner, r.repo, r.commentID, "confused"); err != nil {
		a.log.WarnContext(ctx, "could not react to a failed command", "err", err)
	}
}

// checkRunAction handles a button on ferry's check run as the command of
// the same name.
func (a *App) checkRunAction(ctx context.Context, d event.Delivery, e any) error {
	b, ok := e.(ghadapter.Button)
	if !ok {
		return nil // a check_run event that is not a button
	}
	spec, known := command.Lookup(b.Identifier)
	if b.CheckName != riskagent.CheckName || !known {
		return nil // another app's button
	}
	r := request{delivery: d.ID, installation: b.Repo.InstallationID, repoID: b.Repo.ID, owner: b.Repo.Owner, repo: b.Repo.Name,
		actor: b.Sender.Login, bot: b.Sender.Bot, headSHA: b.HeadSHA, at: d.ReceivedAt, branch: b.Repo.DefaultBranch,
		cloneURL: b.Repo.CloneURL, htmlURL: b.Repo.HTMLURL}
	cmd := command.Command{Spec: spec, Flags: map[string]bool{}, Line: 1, Text: "button: " + spec.Verb}
	if len(b.PullRequests) == 0 {
		// GitHub lists the pull requests whose head is the run's commit:
		// none when commits were pushed since, or for a fork's.
		return a.refuseAll(ctx, r, []command.Command{cmd}, "this check run's commit is not the head of a pull request here (pushed since?)")
	}
	// A PR listed here may belong to another repository (this one as a
	// fork's base): only one whose base is this repository counts.
	for _, pr := range b.PullRequests {
		if pr.BaseRepoID == r.repoID {
			r.number, r.isPR = pr.Number, true
			return classify(a.runCommands(ctx, r, []command.Command{cmd}, nil))
		}
	}
	return a.refuseAll(ctx, r, []command.Command{cmd}, "this check run names no pull request of this repository")
}

// refuseAll records a refusal of every command without acting or
// answering (bots, edits: answering could loop or mislead).
func (a *App) refuseAll(ctx context.Context, r request, cmds []command.Command, why string) error {
	for i, c := range cmds {
		if err := a.audit.RecordDecision(ctx, a.commandDecision(r, i, c, "refused: "+why), r.number); err != nil {
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
