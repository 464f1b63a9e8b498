package promoteagent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/md"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/promotion"
	"github.com/ferry-ci/ferry/internal/render"
)

// Update brings every promoted environment's production-deploy pull
// request up to date under the default branch's policy: the newest
// candidate, everything between what runs and it, the body rewritten in
// place. Nothing is proposed while a merged one is still deploying.
func (a *Agent) Update(ctx context.Context, r Repo, pol policy.Loaded) error {
	if !pol.Usable() {
		return nil
	}
	var envs []policy.Environment
	for _, env := range pol.Policy.Environments {
		if env.Promoted() {
			envs = append(envs, env)
		}
	}
	if len(envs) == 0 {
		return nil
	}
	slices.SortFunc(envs, func(x, y policy.Environment) int { return strings.Compare(x.Name, y.Name) })
	gh := a.deps.GitHub(r.InstallationID)
	user, pass, err := gh.GitCredentials(ctx)
	if err != nil {
		return err
	}
	return a.deps.History.History(ctx, strconv.FormatInt(r.ID, 10), git.Remote{URL: r.CloneURL, Username: user, Password: pass},
		r.DefaultBranch, func(g *git.Repo) error {
			for _, env := range envs {
				if err := a.update(ctx, gh, g, r, pol.Policy, env); err != nil {
					return fmt.Errorf("production-deploy pull request of %s: %w", env.Name, err)
				}
			}
			return nil
		})
}

// proposal is one environment's production-deploy pull request being
// brought up to date.
type proposal struct {
	repo     Repo
	env      policy.Environment
	pol      policy.Policy
	running  string // full SHA
	commits  []promotion.Commit
	deploys  map[string][]deploy.Deploy // by environment, newest first
	sources  map[string]promotion.Source
	previous promotion.PR // the newest record (zero: none)
}

// update proposes one environment's candidate, if there is one.
func (a *Agent) update(ctx context.Context, gh GitHub, g *git.Repo, r Repo, pol policy.Policy, env policy.Environment) error {
	p := proposal{repo: r, env: env, pol: pol, deploys: map[string][]deploy.Deploy{}}
	prev, err := a.deps.Promotions.LatestPromotion(ctx, r.ID, env.Name)
	if err != nil && !errors.Is(err, promotion.ErrNotFound) {
		return err
	}
	p.previous = prev
	if prev.State == promotion.Merged || prev.State == promotion.Deploying || prev.State == promotion.Restoring {
		return nil // one in flight: what it leaves running decides the next
	}
	for name := range pol.Environments {
		if p.deploys[name], err = a.deps.Deploys.Deploys(ctx, r.ID, name); err != nil {
			return err
		}
	}
	running, err := a.running(ctx, env, p.deploys[env.Name])
	if err != nil {
		return err
	}
	if p.running, p.commits, err = a.since(ctx, g, r, running); err != nil || p.running == "" {
		if err == nil {
			return a.record(ctx, r, 0, "unknown-"+env.Name+"-"+running, "no production-deploy pull request for "+env.Name+
				": what it runs ("+short(running)+") is not among the newest "+strconv.Itoa(a.cfg.MaxChanges)+" commits of "+
				r.DefaultBranch+"'s first-parent history (deploy one with /ferry deploy "+env.Name+")", nil, running)
		}
		return err
	}
	if err := a.retireStale(ctx, gh, &p); err != nil {
		return err
	}
	i, ok, err := a.candidate(ctx, &p)
	if err != nil || !ok {
		return err
	}
	p.commits = p.commits[:i+1]
	if prev.State == promotion.Closed && prev.Candidate == p.commits[i].SHA {
		return nil // a person closed it for this candidate: the next one proposes again
	}
	return a.propose(ctx, gh, p)
}

// running is what the environment runs: by ferry's record, else as its
// cluster's images name it (a SHA or prefix; "" unknown).
func (a *Agent) running(ctx context.Context, env policy.Environment, deploys []deploy.Deploy) (string, error) {
	if sha := promotion.Running(rans(deploys)); sha != "" {
		return sha, nil
	}
	return a.deps.Deployer.ClusterCommit(ctx, env)
}

func rans(ds []deploy.Deploy) []promotion.Ran {
	out := make([]promotion.Ran, 0, len(ds))
	for _, d := range ds {
		out = append(out, promotion.Ran{SHA: d.SHA, Rollback: d.Kind == deploy.KindRollback, Succeeded: d.Status == deploy.Succeeded,
			RolledBack: d.EndCause.RolledBack(), FinishedAt: d.FinishedAt})
	}
	return out
}

// since reads the default branch's first-parent history after running
// (full SHA or prefix), oldest first, and running's full SHA — "" when
// running is not on that history within the bound.
func (a *Agent) since(ctx context.Context, g *git.Repo, r Repo, running string) (string, []promotion.Commit, error) {
	if running == "" {
		return "", nil, nil
	}
	tip, err := g.Resolve("refs/heads/" + r.DefaultBranch)
	if err != nil {
		return "", nil, fmt.Errorf("the tip of %s: %w", r.DefaultBranch, err)
	}
	if strings.HasPrefix(tip.Hash.String(), running) {
		return tip.Hash.String(), nil, nil
	}
	h, err := g.FirstParent(ctx, tip, git.HistoryOptions{Max: a.cfg.MaxChanges,
		Known: func(sha string) bool { return strings.HasPrefix(sha, running) }})
	if err != nil || len(h.Commits) == 0 {
		return "", nil, err
	}
	oldest, err := g.Resolve(h.Commits[0].SHA)
	if err != nil || oldest.NumParents() == 0 || !strings.HasPrefix(oldest.ParentHashes[0].String(), running) {
		return "", nil, err
	}
	out := make([]promotion.Commit, len(h.Commits))
	for i, c := range h.Commits {
		out[i] = promotion.Commit{SHA: c.SHA, Subject: c.Subject, Title: c.Title, Author: c.Author, IsRevert: c.IsRevert, At: c.Date}
		if c.PR != nil {
			out[i].PR = *c.PR
		}
		for _, f := range c.Files {
			out[i].Paths = append(out[i].Paths, f.Path)
		}
	}
	return oldest.ParentHashes[0].String(), out, nil
}

// candidate picks the commit to propose: the newest that deployed
// successfully where the environment promotes from, or the default
// branch's tip once its required checks are green — never one rolled
// back in the environment itself.
func (a *Agent) candidate(ctx context.Context, p *proposal) (int, bool, error) {
	env, r := p.env, p.repo
	rolledBack := func(sha string) bool {
		return slices.ContainsFunc(p.deploys[env.Name], func(d deploy.Deploy) bool { return d.SHA == sha && d.EndCause.RolledBack() })
	}
	if from := env.Promote.From; from != "" {
		p.sources = promotion.Sources(rans(p.deploys[from]))
		i, ok := promotion.Choose(p.commits, func(sha string) bool { _, ok := p.sources[sha]; return ok }, rolledBack)
		return i, ok, nil
	}
	if len(p.commits) == 0 {
		return 0, false, nil
	}
	tip := p.commits[len(p.commits)-1].SHA
	green, waiting, err := a.deps.Deployer.Green(ctx, r.InstallationID, r.Owner, r.Name, r.DefaultBranch, tip, p.pol.RequiredChecks)
	if err != nil || !green {
		if err == nil {
			a.cfg.Logger.InfoContext(ctx, "no production-deploy candidate yet: the tip's checks are not green", "env", env.Name, "waiting", waiting)
		}
		return 0, false, err
	}
	return len(p.commits) - 1, !rolledBack(tip), nil
}

// retireStale closes an open production-deploy pull request whose
// candidate is no longer ahead of what the environment runs (it came to run
// it, or something newer, another way): merged, it would ship nothing new
// or take production back.
func (a *Agent) retireStale(ctx context.Context, gh GitHub, p *proposal) error {
	prev := p.previous
	if prev.State != promotion.Open || slices.ContainsFunc(p.commits, func(c promotion.Commit) bool { return c.SHA == prev.Candidate }) {
		return nil
	}
	if moved, err := a.deps.Promotions.AdvancePromotion(ctx, p.repo.ID, prev.Number, []promotion.State{promotion.Open},
		promotion.Shipped, "", "", a.cfg.Now()); err != nil || !moved {
		return err
	}
	p.previous.State = promotion.Shipped
	msg := "ferry: " + md.Text(p.env.Name) + " runs " + md.Code(short(p.running)) + " now, and " + md.Code(short(prev.Candidate)) +
		" is not ahead of it: nothing here is left to ship. The next candidate opens a new pull request."
	if _, err := gh.UpsertComment(ctx, p.repo.Owner, p.repo.Name, prev.Number, commentKey(p.env.Name), msg); err != nil {
		return err
	}
	return gh.ClosePull(ctx, p.repo.Owner, p.repo.Name, prev.Number)
}

// propose renders the candidate's pull request and opens or updates it.
func (a *Agent) propose(ctx context.Context, gh GitHub, p proposal) error {
	r, env := p.repo, p.env
	changes, err := a.changes(ctx, gh, p)
	if err != nil {
		return err
	}
	paused := ""
	if pause, err := a.deps.Control.Paused(ctx, r.ID, env.Name); err != nil {
		return err
	} else if pause != nil {
		paused = "paused by @" + pause.By + suffix(pause.Reason)
	}
	s := promotion.Summarize(promotion.Input{Env: env, Running: p.running, Changes: changes, Now: a.cfg.Now(), Paused: paused})
	view := render.NewPromotionView(s, env, r.HTMLURL, earlier(p.deploys[env.Name]), a.cfg.Now())
	if view.InShort, err = a.inShort(ctx, r, p.pol, changes); err != nil {
		return err
	}
	body, err := a.render.Promotion(view)
	if err != nil {
		return err
	}
	title := fmt.Sprintf("Deploy to %s: %d %s (%s risk)", env.Name, len(changes), plural(len(changes), "change", "changes"), s.Plan.Level)
	number, head, created, err := gh.Promote(ctx, r.Owner, r.Name, forge.Promotion{Branch: Branch(env.Name), SHA: s.Candidate,
		Base: env.Promote.Branch, BaseAt: p.running, Title: title, Body: wrap(body, env), OnTop: movedBack(p.previous)})
	if err != nil {
		return err
	}
	if err := a.deps.Promotions.SavePromotion(ctx, promotion.PR{RepositoryID: r.ID, Environment: env.Name, Number: number,
		Candidate: s.Candidate, Head: head, Base: env.Promote.Branch, Running: p.running, State: promotion.Open, Plan: s.Plan, UpdatedAt: a.cfg.Now()}); err != nil {
		return err
	}
	verb := "updated"
	if created {
		verb = "opened"
	}
	return a.record(ctx, r, number, "proposed-"+env.Name+"-"+short(s.Candidate)+"-"+strconv.Itoa(len(changes)),
		fmt.Sprintf("%s production-deploy pull request #%d: %s to %s, %d changes, %s risk, %s", verb, number, short(s.Candidate),
			env.Name, len(changes), s.Plan.Level, s.Plan.Strategy), reasons(s), s.Candidate, p.running, s.Plan)
}

// movedBack tells, from the newest record, whether the deploy branch's
// last change was ferry moving it back: it then holds history whose
// content does not run, and a candidate must come as a commit on top.
func movedBack(prev promotion.PR) bool {
	switch prev.State {
	case promotion.Restored:
		return true
	case promotion.Open, promotion.Closed, promotion.Shipped:
		return prev.Head != "" && prev.Head != prev.Candidate // proposed on top already: still so
	case promotion.Merged, promotion.Deploying, promotion.Deployed, promotion.Restoring:
	}
	return false
}

// wrap is the pull request's body: ferry's part (between the markers a
// person's edits are kept around) and what merging does.
func wrap(rendered string, env policy.Environment) string {
	who := "someone with the deploy command's role who wrote none of these changes"
	if env.Promote.AuthorsApprove {
		who = "someone with the deploy command's role"
	}
	return forge.BodyStart + "\n" + rendered + "\n\n---\n*Merging this pull request deploys its head commit to " + md.Text(env.Name) +
		" with ferry's deploy agent, as planned above, and rolls back on its own when the metrics say so; merging is the human " +
		"approval, and counts when done by " + who + ". `/ferry deploy " + env.Name + "` here does the same. If the deploy fails, " +
		md.Code(env.Promote.Branch) + " is moved back to what runs and a new pull request follows. ferry rewrites only the part " +
		"above this line; what you write after it stays.*\n" + forge.BodyEnd + "\n"
}

// earlier are the environment's last deploys, for the links.
func earlier(ds []deploy.Deploy) []render.EarlierDeploy {
	var out []render.EarlierDeploy
	for _, d := range ds {
		if len(out) == 3 {
			break
		}
		status := string(d.Status)
		if d.EndCause.RolledBack() {
			status = "rolled back"
		}
		out = append(out, render.EarlierDeploy{ID: d.ID, Short: short(d.SHA), Status: status})
	}
	return out
}

// reasons are the audit trail's account of a proposal.
func reasons(s promotion.Summary) []audit.Reason {
	var out []audit.Reason
	for _, c := range s.Changes {
		level := "not assessed"
		if c.Assessed {
			level = string(c.Level)
		}
		out = append(out, audit.Reason{Rule: "change", Summary: fmt.Sprintf("%s %s: %s", short(c.SHA), level, c.Title)})
	}
	for _, at := range s.Attention {
		out = append(out, audit.Reason{Rule: "attention:" + at.Kind, Summary: at.Text})
	}
	return out
}

func suffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
