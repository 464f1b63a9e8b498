package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-ci/ferry/internal/assessment"
	"github.com/ferry-ci/ferry/internal/install"
	"github.com/ferry-ci/ferry/internal/riskagent"

	"github.com/ferry-ci/ferry/internal/event"
	ghadapter "github.com/ferry-ci/ferry/internal/github"
)

func installationChange(e any) (ghadapter.InstallationChange, error) {
	c, ok := e.(ghadapter.InstallationChange)
	if !ok {
		return c, unexpected("installation", e)
	}
	return c, nil
}

// installationCreated records the installation and the repositories it
// selected (all of them are listed in the payload).
func (a *App) installationCreated(ctx context.Context, _ event.Delivery, e any) error {
	c, err := installationChange(e)
	if err != nil {
		return err
	}
	if err := a.installations.SaveInstallation(ctx, c.Installation, c.Added, a.now()); err != nil {
		return fmt.Errorf("save installation %d: %w", c.Installation.ID, err)
	}
	a.log.InfoContext(ctx, "installation saved", "installation", c.Installation.ID, "account", c.Installation.AccountLogin,
		"repositories", len(c.Added))
	return a.learnHistories(ctx, c.Installation.ID, c.Added)
}

func (a *App) installationDeleted(ctx context.Context, _ event.Delivery, e any) error {
	c, err := installationChange(e)
	if err != nil {
		return err
	}
	if err := a.installations.DeleteInstallation(ctx, c.Installation, a.now()); err != nil {
		return fmt.Errorf("delete installation %d: %w", c.Installation.ID, err)
	}
	a.log.InfoContext(ctx, "installation deleted", "installation", c.Installation.ID)
	return nil
}

func (a *App) installationSuspended(ctx context.Context, _ event.Delivery, e any) error {
	c, err := installationChange(e)
	if err != nil {
		return err
	}
	id, suspended := c.Installation.ID, c.Action == "suspend"
	// The installation may predate ferry's database: record it first.
	if err := a.installations.SaveInstallation(ctx, c.Installation, nil, a.now()); err != nil {
		return fmt.Errorf("record installation %d: %w", id, err)
	}
	if err := a.installations.SetInstallationSuspended(ctx, id, suspended, a.now()); err != nil {
		return fmt.Errorf("suspend installation %d: %w", id, err)
	}
	return nil
}

func (a *App) repositoriesAdded(ctx context.Context, _ event.Delivery, e any) error {
	c, err := installationChange(e)
	if err != nil {
		return err
	}
	if err := a.installations.SaveInstallation(ctx, c.Installation, c.Added, a.now()); err != nil {
		return fmt.Errorf("add repositories to %d: %w", c.Installation.ID, err)
	}
	return a.learnHistories(ctx, c.Installation.ID, c.Added)
}

func (a *App) repositoriesRemoved(ctx context.Context, _ event.Delivery, e any) error {
	c, err := installationChange(e)
	if err != nil {
		return err
	}
	if err := a.installations.RemoveRepositories(ctx, c.Installation.ID, c.Removed, a.now()); err != nil {
		return fmt.Errorf("remove repositories from %d: %w", c.Installation.ID, err)
	}
	return nil
}

// maxBackfills bounds the repositories whose history one installation
// event learns; the others learn on their first push.
const maxBackfills = 20

// learnHistories backfills the risk model of repositories ferry was just
// installed on, under each one's policy at its default branch. Best effort:
// what is not learned now (an error, the job's time) is at the first push;
// a cancelled job or a model another job saved first is retried.
func (a *App) learnHistories(ctx context.Context, installation int64, repos []install.Repository) error {
	if a.assessor == nil || a.github == nil {
		return nil // an application without the risk agent
	}
	for i, r := range repos {
		if i == maxBackfills {
			a.log.InfoContext(ctx, "more repositories learn their history at their first push", "count", len(repos)-i)
			break
		}
		err := a.learnHistory(ctx, installation, r)
		switch {
		case err == nil:
		case ctx.Err() != nil, errors.Is(err, assessment.ErrStaleModel):
			return err
		default:
			a.log.WarnContext(ctx, "could not learn a repository's history; its first push will", "repository", r.FullName, "err", err)
		}
	}
	return nil
}

func (a *App) learnHistory(ctx context.Context, installation int64, r install.Repository) error {
	owner, name, ok := strings.Cut(r.FullName, "/")
	if !ok {
		return fmt.Errorf("repository %q: not owner/name", r.FullName)
	}
	info, err := a.github(installation).RepoInfo(ctx, owner, name)
	if err != nil {
		return err
	}
	pol, err := a.policyAt(ctx, installation, owner, name, info.DefaultBranch, info.DefaultBranch)
	if err != nil || !pol.Usable() {
		return err // an invalid policy learns nothing: it says so on every pull request
	}
	s := riskagent.Subject{ID: "install", InstallationID: installation, RepositoryID: r.ID, Owner: owner, Repo: name,
		BaseRef: info.DefaultBranch, CloneURL: info.CloneURL}
	return a.assessor.Learn(ctx, s, info.DefaultBranch, pol.Policy)
}
