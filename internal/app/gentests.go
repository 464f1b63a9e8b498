package app

import (
	"context"
	"fmt"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/control"
	"github.com/ferry-ci/ferry/internal/forge"
	ghadapter "github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/render"
	"github.com/ferry-ci/ferry/internal/testagent"
)

// Writer is the test agent's writer: generated tests pushed to ferry's
// branch for CI to run, proposed as a pull request once green.
type Writer interface {
	Write(ctx context.Context, r testagent.Repo, pr forge.PullRequest, by string) (testagent.WriteResult, error)
	Auto(ctx context.Context, r testagent.Repo, pr forge.PullRequest, level string) error
	CheckSuite(ctx context.Context, r testagent.Repo, sha string) error
	SourceClosed(ctx context.Context, r testagent.Repo, number int) error
	SourceMoved(ctx context.Context, r testagent.Repo, pr forge.PullRequest) error
}

func writerRepo(r ghadapter.Repo) testagent.Repo {
	return testagent.Repo{InstallationID: r.InstallationID, ID: r.ID, Owner: r.Owner, Name: r.Name, DefaultBranch: r.DefaultBranch,
		CloneURL: r.CloneURL, HTMLURL: r.HTMLURL}
}

// writeTests is /ferry test: tests for the functions the pull request
// changes, pushed for CI to judge.
func (a *App) writeTests(ctx context.Context, r request, pr *forge.PullRequest) (outcome, error) {
	if a.writer == nil {
		return refused("the test agent is not running here"), nil
	}
	if r.headSHA != "" && pr.HeadSHA != r.headSHA {
		// Bound to the head it was asked on: tests for another head would
		// be tests nobody asked for.
		return refused(audit.Short(r.headSHA) + " was the head when you asked; commits were pushed since: look, then `/ferry test` again"), nil
	}
	repo := testagent.Repo{InstallationID: r.installation, ID: r.repoID, Owner: r.owner, Name: r.repo, DefaultBranch: r.branch,
		CloneURL: r.cloneURL, HTMLURL: r.htmlURL}
	if pr.CloneURL != "" {
		repo.CloneURL = pr.CloneURL
	}
	if pol, err := a.defaultPolicy(ctx, r.installation, r.owner, r.repo, r.branch); err != nil {
		return outcome{}, err
	} else if pol.Usable() {
		repo.LLMBudget = pol.Policy.LLM.DailyTokens
	}
	res, err := a.writer.Write(ctx, repo, *pr, r.actor)
	if err != nil {
		return outcome{}, classify(err)
	}
	text := res.Note
	if text == "" {
		text = fmt.Sprintf("pushed %d tests to %s (%s): this repository's CI runs them; ferry removes those it fails and opens a pull request into this one's branch once they pass",
			res.Candidates, "`"+res.Branch+"`", "`"+res.Tip[:min(8, len(res.Tip))]+"`")
	}
	if res.WithoutModel && res.Note == "" {
		text = "no model configured: proposing fuzz targets only. " + text
	}
	return outcome{output: text, reply: render.ReplyPart{Note: text}}, nil
}

// testsJudged hands a completed check suite to the writer: CI's results
// on ferry's branch decide its next step. Not while paused: a later
// suite (a re-run) resumes.
func (a *App) testsJudged(ctx context.Context, cs ghadapter.CheckSuite) error {
	if a.writer == nil {
		return nil
	}
	if a.control != nil {
		if p, err := a.control.Paused(ctx, cs.Repo.ID, control.AllEnvironments); err != nil || p != nil {
			return err
		}
	}
	return a.writer.CheckSuite(ctx, writerRepo(cs.Repo), cs.HeadSHA)
}

// autoTests starts the writer on a pull request ferry just assessed, where
// the default branch's policy asks for it at the level assessed (the
// writer reads the assessment) — not while paused.
func (a *App) autoTests(ctx context.Context, c ghadapter.PullRequestChange) error {
	if a.writer == nil {
		return nil
	}
	if c.Action == "synchronize" {
		// Tests being written for the old head are for nobody now, paused
		// or not.
		if err := a.writer.SourceMoved(ctx, writerRepo(c.Repo), c.PR); err != nil {
			return err
		}
	}
	if a.control == nil {
		return nil
	}
	if p, err := a.control.Paused(ctx, c.Repo.ID, control.AllEnvironments); err != nil || p != nil {
		return err
	}
	pol, err := a.defaultPolicy(ctx, c.Repo.InstallationID, c.Repo.Owner, c.Repo.Name, c.Repo.DefaultBranch)
	if err != nil || !pol.Usable() || pol.Policy.GenerateTests == "" {
		return err
	}
	repo := writerRepo(c.Repo)
	repo.LLMBudget = pol.Policy.LLM.DailyTokens
	return a.writer.Auto(ctx, repo, c.PR, pol.Policy.GenerateTests)
}
