package app

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/command"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/forge"
	ghadapter "github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/promoteagent"
	"github.com/ferry-ci/ferry/internal/promotion"
)

// Promoter is the promote agent: production-deploy pull requests.
type Promoter interface {
	Update(ctx context.Context, r promoteagent.Repo, pol policy.Loaded) error
	Merged(ctx context.Context, r promoteagent.Repo, pr forge.PullRequest, by promoteagent.Shipper, pol policy.Loaded) error
	Deploy(ctx context.Context, r promoteagent.Repo, pr forge.PullRequest, by promoteagent.Shipper, pol policy.Loaded) (string, error)
	Of(ctx context.Context, repositoryID int64, number int) (promotion.PR, bool, error)
	Ended(ctx context.Context, r promoteagent.Repo, d deploy.Deploy, pol policy.Loaded) error
	GetDeploy(ctx context.Context, id string) (deploy.Deploy, error)
}

func promoteRepo(r ghadapter.Repo, cause string) promoteagent.Repo {
	return promoteagent.Repo{InstallationID: r.InstallationID, ID: r.ID, Owner: r.Owner, Name: r.Name, DefaultBranch: r.DefaultBranch,
		CloneURL: r.CloneURL, HTMLURL: r.HTMLURL, Cause: cause}
}

// pullRequestClosed hands a closed pull request to the agents that opened
// theirs: a production-deploy pull request merged ships (its merger's role
// checked by the one gate), a release pull request is tagged. Each tells
// its own from others'.
func (a *App) pullRequestClosed(ctx context.Context, d event.Delivery, e any) error {
	c, ok := e.(ghadapter.PullRequestChange)
	if !ok {
		return unexpected("pull_request", e)
	}
	if a.writer != nil {
		if err := a.writer.SourceClosed(ctx, writerRepo(c.Repo), c.PR.Number); err != nil {
			return classify(err)
		}
	}
	if a.promoter != nil {
		if err := a.promotionClosed(ctx, d, c); err != nil {
			return classify(err)
		}
	}
	if a.releaser == nil {
		return nil
	}
	return classify(a.releaser.Closed(ctx, releaseRepo(c.Repo, "", d.ID), c.PR))
}

// promotionClosed ships a production-deploy pull request merged by someone
// the deploy command's rule allows (not paused: a pause holds the deploy,
// it does not refuse the merge), or records it closed.
func (a *App) promotionClosed(ctx context.Context, d event.Delivery, c ghadapter.PullRequestChange) error {
	if _, ours, err := a.promoter.Of(ctx, c.Repo.ID, c.PR.Number); err != nil || !ours {
		return err
	}
	pol, err := a.defaultPolicy(ctx, c.Repo.InstallationID, c.Repo.Owner, c.Repo.Name, c.Repo.DefaultBranch)
	if err != nil {
		return err
	}
	by := promoteagent.Shipper{Login: c.Sender.Login}
	if c.PR.Merged {
		r := request{delivery: d.ID, installation: c.Repo.InstallationID, repoID: c.Repo.ID, owner: c.Repo.Owner, repo: c.Repo.Name,
			number: c.PR.Number, isPR: true, actor: c.Sender.Login, bot: c.Sender.Bot, branch: c.Repo.DefaultBranch}
		perm, err := a.perms.get(ctx, a.github(r.installation), r)
		if err != nil {
			return err
		}
		spec, _ := command.Lookup("deploy")
		by.Denied = gate(command.Command{Spec: spec, Args: []string{"merge"}}, r, perm, false, nil, pol)
	}
	return a.promoter.Merged(ctx, promoteRepo(c.Repo, d.ID), c.PR, by, pol)
}

// promoteByCommand is /ferry deploy ENV on ENV's production-deploy pull
// request: it ships like merging. done is false for any other pull
// request.
func (a *App) promoteByCommand(ctx context.Context, r request, pr *forge.PullRequest, pol policy.Loaded, env string) (outcome, bool, error) {
	if a.promoter == nil || pr == nil {
		return outcome{}, false, nil
	}
	rec, ours, err := a.promoter.Of(ctx, r.repoID, r.number)
	if err != nil || !ours || rec.Environment != env {
		return outcome{}, false, err
	}
	seen := *pr
	seen.HeadSHA = r.headSHA // what the person saw when they asked
	repo := ghadapter.Repo{ID: r.repoID, Owner: r.owner, Name: r.repo, DefaultBranch: r.branch, CloneURL: r.cloneURL, HTMLURL: r.htmlURL,
		InstallationID: r.installation}
	why, err := a.promoter.Deploy(ctx, promoteRepo(repo, r.delivery), seen, promoteagent.Shipper{Login: r.actor}, pol)
	if err != nil || why != "" {
		return refused(why), true, err
	}
	return outcome{output: "shipping #" + strconv.Itoa(r.number) + " to " + env}, true, nil
}

// DeployEnded is the step that follows a deploy as it ends: the promote
// agent records a production-deploy pull request's outcome and brings the
// others up to date (a deploy to staging makes a candidate). It waits
// until the deploy is marked ended.
func (a *App) DeployEnded(ctx context.Context, id string) (time.Duration, error) {
	d, err := a.promoter.GetDeploy(ctx, id)
	if err != nil {
		return 0, err
	}
	if !d.Terminal() {
		return time.Second, nil // told just before the deploy is marked ended
	}
	owner, name, _ := strings.Cut(d.Repository, "/")
	gh := a.github(d.InstallationID)
	repo, err := gh.RepoInfo(ctx, owner, name)
	if err != nil {
		return 0, classify(err)
	}
	repo.ID, repo.InstallationID = d.RepositoryID, d.InstallationID
	pol, err := a.defaultPolicy(ctx, d.InstallationID, owner, name, repo.DefaultBranch)
	if err != nil || !promotes(pol.Policy) {
		return 0, classify(err)
	}
	return 0, classify(a.promoter.Ended(ctx, promoteRepo(repo, "deploy-"+d.ID), d, pol))
}

// updatePromotions brings production-deploy pull requests up to date when
// the default branch's tip passed its checks: environments promoted from
// the default branch (the others follow their source's deploys).
func (a *App) updatePromotions(ctx context.Context, repo ghadapter.Repo, pol policy.Loaded, cause string) error {
	fromBranch := false
	for _, env := range pol.Policy.Environments {
		fromBranch = fromBranch || env.Promoted() && env.Promote.From == ""
	}
	if a.promoter == nil || !fromBranch {
		return nil
	}
	return a.promoter.Update(ctx, promoteRepo(repo, cause), pol)
}

func promotes(p policy.Policy) bool {
	for _, env := range p.Environments {
		if env.Promoted() {
			return true
		}
	}
	return false
}
