package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ferry-ci/ferry/internal/deploy"
)

const gateColumns = `id, installation_id, repository_id, repository, environment, sha, ref, run_id, number, request, state, answer,
	comment, note, created_at, answered_at`

// CreateGate records a protection rule request and, in the same
// transaction, whatever enqueue writes (its job). created is false when it
// exists (a redelivery): nothing is written then.
func (db *DB) CreateGate(ctx context.Context, g deploy.Gate, enqueue func(tx *sql.Tx) error) (created bool, err error) {
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO gates (id, installation_id, repository_id, repository, environment, sha, ref, run_id,
			number, request, state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING`,
			g.ID, g.InstallationID, g.RepositoryID, g.Repository, g.Environment, g.SHA, g.Ref, g.RunID, g.Number, string(g.Request),
			string(deploy.GateWaiting), g.CreatedAt.UTC())
		if err != nil {
			return fmt.Errorf("create gate %s: %w", g.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		created = true
		return enqueue(tx)
	})
	return created, err
}

// GetGate loads a protection rule request.
func (db *DB) GetGate(ctx context.Context, id string) (deploy.Gate, error) {
	var (
		g        deploy.Gate
		req      string
		answered sql.NullTime
	)
	err := db.sql.QueryRowContext(ctx, `SELECT `+gateColumns+` FROM gates WHERE id = $1`, id).Scan(&g.ID, &g.InstallationID,
		&g.RepositoryID, &g.Repository, &g.Environment, &g.SHA, &g.Ref, &g.RunID, &g.Number, &req, &g.State, &g.Answer, &g.Comment,
		&g.Note, &g.CreatedAt, &answered)
	if errors.Is(err, sql.ErrNoRows) {
		return g, fmt.Errorf("gate %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return g, fmt.Errorf("gate %s: %w", id, err)
	}
	g.Request, g.CreatedAt = []byte(req), g.CreatedAt.UTC()
	if answered.Valid {
		g.AnsweredAt = answered.Time.UTC()
	}
	return g, nil
}

// GateNote records the "not yet" last said on the run.
func (db *DB) GateNote(ctx context.Context, id, note string) error {
	return db.exec(ctx, "note gate", `UPDATE gates SET note = $1 WHERE id = $2 AND state = $3`, note, id, string(deploy.GateWaiting))
}

// GateAnswering records the answer before it is sent: once. A retry finds
// it and sends the same.
func (db *DB) GateAnswering(ctx context.Context, id, answer, comment string) error {
	return db.exec(ctx, "answer gate", `UPDATE gates SET state = $1, answer = $2, comment = $3 WHERE id = $4 AND state = $5`,
		string(deploy.GateAnswering), answer, comment, id, string(deploy.GateWaiting))
}

// GateAnswered records that GitHub has the answer.
func (db *DB) GateAnswered(ctx context.Context, id string, at time.Time) error {
	return db.exec(ctx, "gate answered", `UPDATE gates SET state = $1, answered_at = $2 WHERE id = $3`,
		string(deploy.GateAnswered), at.UTC(), id)
}

// RolledBackAt names an environment where ferry rolled sha back by itself
// (its metrics condemned it), "" none.
func (db *DB) RolledBackAt(ctx context.Context, repositoryID int64, sha string) (string, error) {
	var env string
	err := db.sql.QueryRowContext(ctx, `SELECT environment FROM deploys WHERE repository_id = $1 AND sha = $2 AND end_cause = $3
		ORDER BY created_at DESC LIMIT 1`, repositoryID, sha, string(deploy.EndRolledBackAuto)).Scan(&env)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("rolled back %s: %w", sha, err)
	}
	return env, nil
}
