package app

import (
	"context"

	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/forge"
	ghadapter "github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/releaseagent"
	"github.com/ferry-ci/ferry/internal/render"
)

// Releaser is the release agent.
type Releaser interface {
	Update(ctx context.Context, r releaseagent.Repo, pol policy.Loaded) error
	Closed(ctx context.Context, r releaseagent.Repo, pr forge.PullRequest) error
	Preview(ctx context.Context, r releaseagent.Repo, pr forge.PullRequest, pol policy.Loaded) ([]render.ReleaseView, error)
}

func releaseRepo(r ghadapter.Repo, head, cause string) releaseagent.Repo {
	return releaseagent.Repo{InstallationID: r.InstallationID, ID: r.ID, Owner: r.Owner, Name: r.Name, DefaultBranch: r.DefaultBranch,
		CloneURL: r.CloneURL, HTMLURL: r.HTMLURL, Head: head, Cause: cause}
}

// updateRelease brings the release pull requests up to date after a push
// to the default branch, under the policy the push left there.
func (a *App) updateRelease(ctx context.Context, d event.Delivery, p ghadapter.Push) error {
	pol, err := a.defaultPolicy(ctx, p.Repo.InstallationID, p.Repo.Owner, p.Repo.Name, p.After)
	if err != nil {
		return err
	}
	return a.releaser.Update(ctx, releaseRepo(p.Repo, p.After, d.ID), pol)
}

// releaseRepoOf is the repository a command is about, for the release
// agent.
func releaseRepoOf(r request) releaseagent.Repo {
	return releaseagent.Repo{InstallationID: r.installation, ID: r.repoID, Owner: r.owner, Name: r.repo, DefaultBranch: r.branch,
		CloneURL: r.cloneURL, HTMLURL: r.htmlURL, Cause: r.delivery}
}

// changelog previews the pull request's changelog entry.
func (a *App) changelog(ctx context.Context, r request, pr *forge.PullRequest, pol policy.Loaded) (outcome, error) {
	if a.releaser == nil {
		return refused("the release agent is not running here"), nil
	}
	views, err := a.releaser.Preview(ctx, releaseRepoOf(r), *pr, pol)
	if err != nil {
		return outcome{}, err
	}
	return outcome{output: "changelog previewed", reply: render.ReplyPart{Changelog: views}}, nil
}
