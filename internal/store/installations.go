package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ferry-ci/ferry/internal/install"
)

// SaveInstallation records an installation (again active if it was deleted)
// and adds repos to it, in one transaction. Handlers call it for any event
// about an installation because it may predate ferry's database.
func (db *DB) SaveInstallation(ctx context.Context, inst install.Installation, repos []install.Repository, at time.Time) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		if err := upsertInstallation(ctx, tx, inst, at); err != nil {
			return err
		}
		return upsertRepositories(ctx, tx, inst.ID, repos, at)
	})
}

// RemoveRepositories marks repositories as no longer selected for an installation.
func (db *DB) RemoveRepositories(ctx context.Context, installationID int64, ids []int64, at time.Time) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			_, err := tx.ExecContext(ctx, `
				UPDATE repositories SET removed_at = $1, updated_at = $1
				WHERE id = $2 AND installation_id = $3 AND removed_at IS NULL`, at.UTC(), id, installationID)
			if err != nil {
				return fmt.Errorf("remove repository %d: %w", id, err)
			}
		}
		return nil
	})
}

// DeleteInstallation marks an installation uninstalled and all its
// repositories removed (recording it first if ferry never saw it). Rows
// stay: later records refer to them.
func (db *DB) DeleteInstallation(ctx context.Context, inst install.Installation, at time.Time) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		if err := upsertInstallation(ctx, tx, inst, at); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE installations SET deleted_at = $1, updated_at = $1 WHERE id = $2`, at.UTC(), inst.ID); err != nil {
			return fmt.Errorf("delete installation %d: %w", inst.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE repositories SET removed_at = $1, updated_at = $1
			WHERE installation_id = $2 AND removed_at IS NULL`, at.UTC(), inst.ID); err != nil {
			return fmt.Errorf("delete installation %d: remove repositories: %w", inst.ID, err)
		}
		return nil
	})
}

// SetInstallationSuspended records a suspension or its end.
func (db *DB) SetInstallationSuspended(ctx context.Context, id int64, suspended bool, at time.Time) error {
	var suspendedAt any
	if suspended {
		suspendedAt = at.UTC()
	}
	_, err := db.sql.ExecContext(ctx,
		`UPDATE installations SET suspended_at = $1, updated_at = $2 WHERE id = $3`, suspendedAt, at.UTC(), id)
	if err != nil {
		return fmt.Errorf("suspend installation %d: %w", id, err)
	}
	return nil
}

// Installations lists every installation ferry knows, deleted ones included.
func (db *DB) Installations(ctx context.Context) ([]install.Installation, error) {
	rows, err := db.sql.QueryContext(ctx, `
		SELECT id, account_login, account_type, suspended_at IS NOT NULL, deleted_at IS NOT NULL
		FROM installations ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list installations: %w", err)
	}
	defer rows.Close()
	var out []install.Installation
	for rows.Next() {
		var i install.Installation
		if err := rows.Scan(&i.ID, &i.AccountLogin, &i.AccountType, &i.Suspended, &i.Deleted); err != nil {
			return nil, fmt.Errorf("list installations: %w", err)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// Repositories lists the repositories an installation currently gives access to.
func (db *DB) Repositories(ctx context.Context, installationID int64) ([]install.Repository, error) {
	rows, err := db.sql.QueryContext(ctx, `
		SELECT id, installation_id, full_name, private FROM repositories
		WHERE installation_id = $1 AND removed_at IS NULL ORDER BY full_name`, installationID)
	if err != nil {
		return nil, fmt.Errorf("list repositories of %d: %w", installationID, err)
	}
	defer rows.Close()
	var out []install.Repository
	for rows.Next() {
		var r install.Repository
		if err := rows.Scan(&r.ID, &r.InstallationID, &r.FullName, &r.Private); err != nil {
			return nil, fmt.Errorf("list repositories of %d: %w", installationID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func upsertInstallation(ctx context.Context, q Querier, inst install.Installation, at time.Time) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO installations (id, account_login, account_type, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $4)
		ON CONFLICT (id) DO UPDATE SET account_login = excluded.account_login,
			account_type = excluded.account_type, deleted_at = NULL, updated_at = excluded.updated_at`,
		inst.ID, inst.AccountLogin, inst.AccountType, at.UTC())
	if err != nil {
		return fmt.Errorf("upsert installation %d: %w", inst.ID, err)
	}
	return nil
}

func upsertRepositories(ctx context.Context, q Querier, installationID int64, repos []install.Repository, at time.Time) error {
	for _, r := range repos {
		// A repository transferred between accounts moves installation.
		_, err := q.ExecContext(ctx, `
			INSERT INTO repositories (id, installation_id, full_name, private, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5)
			ON CONFLICT (id) DO UPDATE SET installation_id = excluded.installation_id,
				full_name = excluded.full_name, private = excluded.private,
				removed_at = NULL, updated_at = excluded.updated_at`,
			r.ID, installationID, r.FullName, r.Private, at.UTC())
		if err != nil {
			return fmt.Errorf("upsert repository %s: %w", r.FullName, err)
		}
	}
	return nil
}
