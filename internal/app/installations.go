package app

import (
	"context"
	"fmt"

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
	return nil
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
	return nil
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
