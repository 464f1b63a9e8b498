package app

import (
	"context"
	"fmt"

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
	if res.Number == 0 {
		return outcome{output: res.Note, reply: render.ReplyPart{Note: res.Note}}, nil
	}
	verb := "updated"
	if res.Created {
		verb = "opened"
	}
	text := fmt.Sprintf("%s #%d: rewrites of %d of %d Dockerfiles, each checked", verb, res.Number, res.Rewritten, res.Files)
	return outcome{output: text, reply: render.ReplyPart{Note: text}}, nil
}
