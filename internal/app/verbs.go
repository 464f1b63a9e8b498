package app

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/command"
	"github.com/ferry-ci/ferry/internal/control"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/render"
)

func (a *App) explain(ctx context.Context, r request, id string) (outcome, error) {
	all, err := a.audit.Decisions(ctx, audit.Filter{Repository: r.fullName(), Number: r.number, Limit: 200})
	if err != nil {
		return outcome{}, err
	}
	for _, d := range all {
		if (id == "" && d.Actor == audit.Ferry) || d.ID == id {
			return outcome{output: "explained " + d.ID, reply: render.ReplyPart{Decision: &d}}, nil
		}
	}
	why := "no decision of ferry's here yet"
	if id != "" {
		why = "no decision " + strconv.Quote(truncate(id, 80)) + " on this pull request or issue"
	}
	return refused(why), nil
}

func (a *App) approve(ctx context.Context, r request, pr *forge.PullRequest, d audit.Decision) (outcome, error) {
	refuse := func(why string) (outcome, error) {
		d.Output = "refused: " + why
		return refused(why), a.audit.RecordDecision(ctx, d, r.number)
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
	if err := a.control.Approve(ctx, r.repoID, r.number, control.Approval{By: r.actor, HeadSHA: pr.HeadSHA, At: d.At}, d); err != nil {
		return outcome{}, err
	}
	// Re-assess so the comment and the check run show the approval.
	return outcome{output: d.Output}, a.assess(ctx, a.subject(r, pr, d.ID))
}

// pushedHead reports whether the person pushed the pull request's head (as
// ferry recorded the events' senders): they may not approve it.
func (a *App) pushedHead(ctx context.Context, r request, pr *forge.PullRequest) (bool, error) {
	if a.heads == nil {
		return false, nil
	}
	pushers, err := a.heads.Pushers(ctx, r.repoID, r.number, pr.HeadSHA)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(pushers, func(p string) bool { return strings.EqualFold(p, r.actor) }), nil
}

// pause is repository-wide until environments exist (the deploy agent);
// every argument but a leading "all" is the reason.
func (a *App) pause(ctx context.Context, r request, d audit.Decision, c command.Command) (outcome, error) {
	args := c.Args
	if len(args) > 0 && args[0] == "all" {
		args = args[1:]
	}
	p := control.Pause{Environment: control.AllEnvironments, By: r.actor, Reason: strings.Join(args, " "), At: d.At}
	d.Kind, d.Subject = audit.KindPause, "repository"
	d.Output = "paused: " + p.Reason
	if err := a.control.SetPause(ctx, r.repoID, p, d, r.number); err != nil {
		return outcome{}, err
	}
	return outcome{output: d.Output}, nil
}

func (a *App) resume(ctx context.Context, r request, pol policy.Loaded, d audit.Decision) (outcome, error) {
	d.Kind, d.Subject, d.Output = audit.KindResume, "repository", "resume requested"
	resumed, err := a.control.Resume(ctx, r.repoID, control.AllEnvironments, d, r.number)
	if err != nil {
		return outcome{}, err
	}
	// What waited goes ahead now — also on a retry, when the pause is
	// already gone but publishing failed the first time.
	if err := a.assessor.PublishWaiting(ctx, r.repoID); err != nil {
		return outcome{}, err
	}
	if a.releaser != nil {
		// Release pull requests skipped while paused catch up; merges
		// recorded meanwhile are tagged and published.
		if err := a.releaser.Update(ctx, releaseRepoOf(r), pol); err != nil {
			return outcome{}, err
		}
	}
	if !resumed {
		return outcome{output: "nothing was paused", reply: render.ReplyPart{Note: "ferry was not paused here"}}, nil
	}
	return outcome{output: d.Output}, nil
}

// feedback records a person's word on one of ferry's decisions here.
func (a *App) feedback(ctx context.Context, r request, c command.Command) (outcome, error) {
	verdict, id := c.Arg(0), c.Arg(1)
	if verdict != "right" && verdict != "wrong" {
		return refused("say right or wrong: /ferry " + c.Spec.Usage), nil
	}
	all, err := a.audit.Decisions(ctx, audit.Filter{Repository: r.fullName()})
	if err != nil {
		return outcome{}, err
	}
	for _, d := range all {
		if d.ID == id && d.Actor == audit.Ferry {
			if err := a.audit.RecordOutcome(ctx, id, verdict, r.actor, a.now()); err != nil {
				return outcome{}, err
			}
			return outcome{output: "outcome of " + id + ": " + verdict}, nil
		}
	}
	return refused("no decision of ferry's " + strconv.Quote(truncate(id, 80)) + " in this repository"), nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
