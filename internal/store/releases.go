package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ferry-ci/ferry/internal/releasing"
)

const releaseColumns = `repository_id, component, number, version, tag, head_sha, notes, state, tag_sha, release_id, updated_at`

func scanReleasePR(row interface{ Scan(...any) error }) (releasing.PR, error) {
	var (
		r     releasing.PR
		state string
	)
	err := row.Scan(&r.RepositoryID, &r.Component, &r.Number, &r.Version, &r.Tag, &r.HeadSHA, &r.Notes, &state, &r.TagSHA,
		&r.ReleaseID, &r.UpdatedAt)
	r.State, r.UpdatedAt = releasing.State(state), r.UpdatedAt.UTC()
	return r, err
}

// SaveReleasePR records a release pull request as proposed (again, when
// it was updated in place).
func (db *DB) SaveReleasePR(ctx context.Context, r releasing.PR) error {
	return db.exec(ctx, "save release pull request", `INSERT INTO release_prs (`+releaseColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (repository_id, component, number) DO UPDATE SET version = $4, tag = $5, head_sha = $6, notes = $7,
		state = $8, updated_at = $11`,
		r.RepositoryID, r.Component, r.Number, r.Version, r.Tag, r.HeadSHA, r.Notes, string(r.State), r.TagSHA, r.ReleaseID, r.UpdatedAt.UTC())
}

// ReleasePR loads a release pull request, or ErrNotFound (wrapping
// releasing.ErrNotFound).
func (db *DB) ReleasePR(ctx context.Context, repositoryID int64, component string, number int) (releasing.PR, error) {
	r, err := scanReleasePR(db.sql.QueryRowContext(ctx, `SELECT `+releaseColumns+` FROM release_prs
		WHERE repository_id = $1 AND component = $2 AND number = $3`, repositoryID, component, number))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("release pull request #%d: %w", number, errors.Join(ErrNotFound, releasing.ErrNotFound))
	}
	if err != nil {
		return r, fmt.Errorf("release pull request #%d: %w", number, err)
	}
	return r, nil
}

// LatestReleasePR is the newest release pull request of a component, or
// ErrNotFound.
func (db *DB) LatestReleasePR(ctx context.Context, repositoryID int64, component string) (releasing.PR, error) {
	r, err := scanReleasePR(db.sql.QueryRowContext(ctx, `SELECT `+releaseColumns+` FROM release_prs
		WHERE repository_id = $1 AND component = $2 ORDER BY number DESC LIMIT 1`, repositoryID, component))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("release pull requests of %q: %w", component, errors.Join(ErrNotFound, releasing.ErrNotFound))
	}
	if err != nil {
		return r, fmt.Errorf("release pull requests of %q: %w", component, err)
	}
	return r, nil
}

// AdvanceReleasePR moves a release pull request to a later state, with the
// tag's commit and the release's id once known. It never moves backwards:
// a retry that finds the work done does not undo the record.
func (db *DB) AdvanceReleasePR(ctx context.Context, repositoryID int64, component string, number int, to releasing.State,
	tagSHA string, releaseID int64, at time.Time) error {
	return db.exec(ctx, "advance release pull request", `UPDATE release_prs SET state = $1,
		tag_sha = CASE WHEN $2 = '' THEN tag_sha ELSE $2 END, release_id = CASE WHEN $3 = 0 THEN release_id ELSE $3 END, updated_at = $4
		WHERE repository_id = $5 AND component = $6 AND number = $7`,
		string(to), tagSHA, releaseID, at.UTC(), repositoryID, component, number)
}
