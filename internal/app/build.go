package app

import (
	"context"
	"fmt"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/control"
	"github.com/ferry-ci/ferry/internal/dockerfile"
	ghadapter "github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/policy"

	"github.com/ferry-ci/ferry/internal/buildagent"
	"github.com/ferry-ci/ferry/internal/render"
)

// Builder is the build agent: it proposes Dockerfile rewrites.
type Builder interface {
	Optimize(ctx context.Context, r buildagent.Repo, only, by string) (buildagent.Result, error)
}

// optimizeDockerfile is /ferry optimize-dockerfile [path].
func (a *App) optimizeDockerfile(ctx context.Context, r request, only string) (outcome, error) {
	if a.builder == nil {
		return refused("the build agent is not running here"), nil
	}
	repo := buildagent.Repo{InstallationID: r.installation, ID: r.repoID, Owner: r.owner, Name: r.repo, DefaultBranch: r.branch,
		CloneURL: r.cloneURL}
	res, err := a.builder.Optimize(ctx, repo, only, r.actor)
	if err != nil {
		return outcome{}, classify(err)
	}
	if res.Note != "" {
		return outcome{output: res.Note, reply: render.ReplyPart{Note: res.Note}}, nil
	}
	verb := "updated"
	if res.Created {
		verb = "opened"
	}
	text := fmt.Sprintf("%s #%d: rewrites of %d of %d Dockerfiles, each checked", verb, res.Number, res.Rewritten, res.Files)
	return outcome{output: text, reply: render.ReplyPart{Note: text}}, nil
}

// optimizeOnPush: where the default branch's policy asks for it, a push
// that touches a Dockerfile (or the policy) has the build agent propose
// its rewrites — not while the repository is paused.
func (a *App) optimizeOnPush(ctx context.Context, p ghadapter.Push) error {
	if a.builder == nil || a.control == nil || !touchesDockerfiles(p) {
		return nil
	}
	if paused, err := a.control.Paused(ctx, p.Repo.ID, control.AllEnvironments); err != nil || paused != nil {
		return err
	}
	pol, err := a.defaultPolicy(ctx, p.Repo.InstallationID, p.Repo.Owner, p.Repo.Name, p.After)
	if err != nil || !pol.Usable() || !pol.Policy.OptimizeDockerfiles {
		return err
	}
	repo := buildagent.Repo{InstallationID: p.Repo.InstallationID, ID: p.Repo.ID, Owner: p.Repo.Owner, Name: p.Repo.Name,
		DefaultBranch: p.Repo.DefaultBranch, CloneURL: p.Repo.CloneURL}
	res, err := a.builder.Optimize(ctx, repo, "", audit.Ferry)
	if err == nil {
		a.log.InfoContext(ctx, "Dockerfile rewrites", "repository", p.Repo.Owner+"/"+p.Repo.Name, "pull_request", res.Number, "note", res.Note)
	}
	return err
}

func touchesDockerfiles(p ghadapter.Push) bool {
	for _, c := range p.Commits {
		for _, path := range c.Paths {
			if dockerfile.IsDockerfile(path) || path == policy.Path {
				return true
			}
		}
	}
	return false
}
