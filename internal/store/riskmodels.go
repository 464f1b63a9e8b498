package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/ferry-ci/ferry/internal/assessment"
)

// RiskModel loads a repository's risk model; Version 0 when none is
// stored.
func (db *DB) RiskModel(ctx context.Context, repositoryID int64) (assessment.Model, error) {
	var (
		m     assessment.Model
		state string
	)
	err := db.sql.QueryRowContext(ctx, `SELECT state, version, changes, head_sha FROM risk_models WHERE repository_id = $1`,
		repositoryID).Scan(&state, &m.Version, &m.Changes, &m.HeadSHA)
	if errors.Is(err, sql.ErrNoRows) {
		return assessment.Model{}, nil
	}
	if err != nil {
		return m, fmt.Errorf("load risk model of repository %d: %w", repositoryID, err)
	}
	if m.State, err = base64.StdEncoding.DecodeString(state); err != nil {
		return m, fmt.Errorf("load risk model of repository %d: %w", repositoryID, err)
	}
	return m, nil
}

// SaveRiskModel stores m as the version after m.Version (the one loaded),
// or assessment.ErrStaleModel when another job saved in between.
func (db *DB) SaveRiskModel(ctx context.Context, repositoryID int64, m assessment.Model, at time.Time) error {
	state := base64.StdEncoding.EncodeToString(m.State)
	var (
		res sql.Result
		err error
	)
	if m.Version == 0 {
		res, err = db.sql.ExecContext(ctx, `INSERT INTO risk_models (repository_id, state, version, changes, head_sha, updated_at)
			VALUES ($1, $2, 1, $3, $4, $5) ON CONFLICT (repository_id) DO NOTHING`, repositoryID, state, m.Changes, m.HeadSHA, at.UTC())
	} else {
		res, err = db.sql.ExecContext(ctx, `UPDATE risk_models SET state = $2, version = version + 1, changes = $3, head_sha = $4,
			updated_at = $5 WHERE repository_id = $1 AND version = $6`, repositoryID, state, m.Changes, m.HeadSHA, at.UTC(), m.Version)
	}
	if err != nil {
		return fmt.Errorf("save risk model of repository %d: %w", repositoryID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("save risk model of repository %d: %w", repositoryID, assessment.ErrStaleModel)
	}
	return nil
}
