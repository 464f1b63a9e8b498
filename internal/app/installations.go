package app

import (
	"context"
	"fmt"

	"github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/store"
)

func installationOf(in *github.Installation) store.Installation {
	return store.Installation{
		ID:           in.GetID(),
		AccountLogin: in.GetAccount().GetLogin(),
		AccountType:  in.GetAccount().GetType(),
	}
}

func repositoriesOf(installationID int64, repos []*github.Repository) []store.Repository {
	out := make([]store.Repository, 0, len(repos))
	for _, r := range repos {
		out = append(out, store.Repository{
			ID: r.GetID(), InstallationID: installationID, FullName: r.GetFullName(), Private: r.GetPrivate(),
		})
	}
	return out
}

func installationEvent(payload any) (*github.InstallationEvent, error) {
	e, ok := payload.(*github.InstallationEvent)
	if !ok || e.GetInstallation().GetID() == 0 {
		return nil, event.Permanent(fmt.Errorf("installation: payload without an installation"))
	}
	return e, nil
}

// installationCreated records the installation and the repositories it
// selected (all of them are listed in the payload).
func (a *App) installationCreated(ctx context.Context, _ event.Delivery, payload any) error {
	e, err := installationEvent(payload)
	if err != nil {
		return err
	}
	inst := installationOf(e.Installation)
	repos := repositoriesOf(inst.ID, e.Repositories)
	if err := a.installations.SaveInstallation(ctx, inst, repos, a.now()); err != nil {
		return fmt.Errorf("save installation %d: %w", inst.ID, err)
	}
	a.log.InfoContext(ctx, "installation saved", "installation", inst.ID, "account", inst.AccountLogin, "repositories", len(repos))
	return nil
}

func (a *App) installationDeleted(ctx context.Context, _ event.Delivery, payload any) error {
	e, err := installationEvent(payload)
	if err != nil {
		return err
	}
	inst := installationOf(e.Installation)
	if err := a.installations.DeleteInstallation(ctx, inst, a.now()); err != nil {
		return fmt.Errorf("delete installation %d: %w", inst.ID, err)
	}
	a.log.InfoContext(ctx, "installation deleted", "installation", inst.ID)
	return nil
}

func (a *App) installationSuspended(ctx context.Context, _ event.Delivery, payload any) error {
	e, err := installationEvent(payload)
	if err != nil {
		return err
	}
	id, suspended := e.Installation.GetID(), e.GetAction() == "suspend"
	// The installation may predate ferry's database: record it first.
	if err := a.installations.SaveInstallation(ctx, installationOf(e.Installation), nil, a.now()); err != nil {
		return fmt.Errorf("record installation %d: %w", id, err)
	}
	if err := a.installations.SetInstallationSuspended(ctx, id, suspended, a.now()); err != nil {
		return fmt.Errorf("suspend installation %d: %w", id, err)
	}
	return nil
}

func repositoriesEvent(payload any) (*github.InstallationRepositoriesEvent, error) {
	e, ok := payload.(*github.InstallationRepositoriesEvent)
	if !ok || e.GetInstallation().GetID() == 0 {
		return nil, event.Permanent(fmt.Errorf("installation_repositories: payload without an installation"))
	}
	return e, nil
}

func (a *App) repositoriesAdded(ctx context.Context, _ event.Delivery, payload any) error {
	e, err := repositoriesEvent(payload)
	if err != nil {
		return err
	}
	inst := installationOf(e.Installation)
	repos := repositoriesOf(inst.ID, e.RepositoriesAdded)
	if err := a.installations.SaveInstallation(ctx, inst, repos, a.now()); err != nil {
		return fmt.Errorf("add repositories to %d: %w", inst.ID, err)
	}
	return nil
}

func (a *App) repositoriesRemoved(ctx context.Context, _ event.Delivery, payload any) error {
	e, err := repositoriesEvent(payload)
	if err != nil {
		return err
	}
	ids := make([]int64, 0, len(e.RepositoriesRemoved))
	for _, r := range e.RepositoriesRemoved {
		ids = append(ids, r.GetID())
	}
	id := e.Installation.GetID()
	if err := a.installations.RemoveRepositories(ctx, id, ids, a.now()); err != nil {
		return fmt.Errorf("remove repositories from %d: %w", id, err)
	}
	return nil
}
