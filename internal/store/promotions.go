package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ferry-ci/ferry/internal/promotion"
)

const promotionColumns = `repository_id, environment, number, candidate_sha, head_sha, base_branch, running_sha, state, plan, merged_by, deploy_id, updated_at`

func scanPromotion(row interface{ Scan(...any) error }) (promotion.PR, error) {
	var (
		p           promotion.PR
		state, plan string
	)
	if err := row.Scan(&p.RepositoryID, &p.Environment, &p.Number, &p.Candidate, &p.Head, &p.Base, &p.Running, &state, &plan, &p.MergedBy,
		&p.DeployID, &p.UpdatedAt); err != nil {
		return p, err
	}
	p.State, p.UpdatedAt = promotion.State(state), p.UpdatedAt.UTC()
	if err := json.Unmarshal([]byte(plan), &p.Plan); err != nil {
		return p, fmt.Errorf("plan of #%d: %w", p.Number, err)
	}
	return p, nil
}

// SavePromotion records a production-deploy pull request as proposed
// (again, when it was updated in place: its candidate, what ran, its
// plan). One that left open (shipped, refused, ended) is never reopened
// by it: its number stays with what it did.
func (db *DB) SavePromotion(ctx context.Context, p promotion.PR) error {
	plan, err := json.Marshal(p.Plan)
	if err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	return db.exec(ctx, "save production-deploy pull request", `INSERT INTO promotions (`+promotionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (repository_id, environment, number) DO UPDATE SET candidate_sha = $4, head_sha = $5, base_branch = $6,
		running_sha = $7, state = $8, plan = $9, updated_at = $12
		WHERE promotions.state = 'open'`,
		p.RepositoryID, p.Environment, p.Number, p.Candidate, p.Head, p.Base, p.Running, string(p.State), string(plan), p.MergedBy, p.DeployID,
		p.UpdatedAt.UTC())
}

// Promotion loads the production-deploy pull request with this number, or
// ErrNotFound (wrapping promotion.ErrNotFound).
func (db *DB) Promotion(ctx context.Context, repositoryID int64, number int) (promotion.PR, error) {
	p, err := scanPromotion(db.sql.QueryRowContext(ctx, `SELECT `+promotionColumns+` FROM promotions
		WHERE repository_id = $1 AND number = $2`, repositoryID, number))
	return p, notFoundAs(err, fmt.Sprintf("production-deploy pull request #%d", number))
}

// LatestPromotion is an environment's newest production-deploy pull
// request, or ErrNotFound.
func (db *DB) LatestPromotion(ctx context.Context, repositoryID int64, environment string) (promotion.PR, error) {
	p, err := scanPromotion(db.sql.QueryRowContext(ctx, `SELECT `+promotionColumns+` FROM promotions
		WHERE repository_id = $1 AND environment = $2 ORDER BY number DESC LIMIT 1`, repositoryID, environment))
	return p, notFoundAs(err, "production-deploy pull requests of "+environment)
}

// PromotionOfDeploy is the production-deploy pull request whose deploy
// this is, or ErrNotFound.
func (db *DB) PromotionOfDeploy(ctx context.Context, repositoryID int64, deployID string) (promotion.PR, error) {
	p, err := scanPromotion(db.sql.QueryRowContext(ctx, `SELECT `+promotionColumns+` FROM promotions
		WHERE repository_id = $1 AND deploy_id = $2`, repositoryID, deployID))
	return p, notFoundAs(err, "production-deploy pull request of deploy "+deployID)
}

func notFoundAs(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, errors.Join(ErrNotFound, promotion.ErrNotFound))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// AdvancePromotion moves a production-deploy pull request from one of the
// states from to the state to (with who merged it and its deploy once
// known) and reports whether it moved: a retry that finds it moved
// already changes nothing.
func (db *DB) AdvancePromotion(ctx context.Context, repositoryID int64, number int, from []promotion.State, to promotion.State,
	mergedBy, deployID string, at time.Time) (bool, error) {
	args := []any{string(to), mergedBy, deployID, at.UTC(), repositoryID, number}
	in := ""
	for i, s := range from {
		if i > 0 {
			in += ", "
		}
		args = append(args, string(s))
		in += fmt.Sprintf("$%d", len(args))
	}
	res, err := db.sql.ExecContext(ctx, `UPDATE promotions SET state = $1,
		merged_by = CASE WHEN $2 = '' THEN merged_by ELSE $2 END, deploy_id = CASE WHEN $3 = '' THEN deploy_id ELSE $3 END,
		updated_at = $4 WHERE repository_id = $5 AND number = $6 AND state IN (`+in+`)`, args...)
	if err != nil {
		return false, fmt.Errorf("advance production-deploy pull request #%d: %w", number, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
