package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ferry-ci/ferry/internal/gentest"
)

const generatedColumns = `repository_id, number, branch, head_ref, head_sha, round, candidates, tip_sha, state, pr_number, usage, note, updated_at`

func scanGenerated(row interface{ Scan(...any) error }) (gentest.Record, error) {
	var (
		r                   gentest.Record
		cands, usage, state string
	)
	if err := row.Scan(&r.RepositoryID, &r.Number, &r.Branch, &r.HeadRef, &r.HeadSHA, &r.Round, &cands, &r.Tip, &state, &r.PR, &usage,
		&r.Note, &r.UpdatedAt); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return r, errors.Join(ErrNotFound, gentest.ErrNotFound)
		}
		return r, fmt.Errorf("read generated tests: %w", err)
	}
	r.State, r.UpdatedAt = gentest.State(state), r.UpdatedAt.UTC()
	if err := json.Unmarshal([]byte(cands), &r.Candidates); err != nil {
		return r, fmt.Errorf("candidates of #%d: %w", r.Number, err)
	}
	if err := json.Unmarshal([]byte(usage), &r.Usage); err != nil {
		return r, fmt.Errorf("usage of #%d: %w", r.Number, err)
	}
	return r, nil
}

func generatedArgs(r gentest.Record) ([]any, error) {
	cands, err := json.Marshal(r.Candidates)
	if err != nil {
		return nil, fmt.Errorf("encode candidates: %w", err)
	}
	usage, err := json.Marshal(r.Usage)
	if err != nil {
		return nil, fmt.Errorf("encode usage: %w", err)
	}
	return []any{r.RepositoryID, r.Number, r.Branch, r.HeadRef, r.HeadSHA, r.Round, string(cands), r.Tip, string(r.State), r.PR,
		string(usage), r.Note, r.UpdatedAt.UTC()}, nil
}

// SaveGeneratedTests records a source pull request's generated tests as
// they are now (a new run replaces the last one's in place).
func (db *DB) SaveGeneratedTests(ctx context.Context, r gentest.Record) error {
	args, err := generatedArgs(r)
	if err != nil {
		return err
	}
	return db.exec(ctx, "save generated tests", `INSERT INTO generated_tests (`+generatedColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (repository_id, number) DO UPDATE SET branch = $3, head_ref = $4, head_sha = $5, round = $6, candidates = $7,
		tip_sha = $8, state = $9, pr_number = $10, usage = $11, note = $12, updated_at = $13`, args...)
}

// CreateGeneratedTests records a source pull request's first generated
// tests, only if it has none yet, and reports whether it did: of two
// requests racing, one starts the run (a later run replaces an earlier
// one through AdvanceGeneratedTests, from the state it read).
func (db *DB) CreateGeneratedTests(ctx context.Context, r gentest.Record) (bool, error) {
	args, err := generatedArgs(r)
	if err != nil {
		return false, err
	}
	res, err := db.sql.ExecContext(ctx, `INSERT INTO generated_tests (`+generatedColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (repository_id, number) DO NOTHING`, args...)
	if err != nil {
		return false, fmt.Errorf("create generated tests of #%d: %w", r.Number, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// AdvanceGeneratedTests saves r only if the row is still in state from at
// commit tip, and reports whether it was: of two jobs acting on one
// round's results, one moves it.
func (db *DB) AdvanceGeneratedTests(ctx context.Context, r gentest.Record, from gentest.State, tip string) (bool, error) {
	args, err := generatedArgs(r)
	if err != nil {
		return false, err
	}
	res, err := db.sql.ExecContext(ctx, `UPDATE generated_tests SET branch = $3, head_ref = $4, head_sha = $5, round = $6, candidates = $7,
		tip_sha = $8, state = $9, pr_number = $10, usage = $11, note = $12, updated_at = $13
		WHERE repository_id = $1 AND number = $2 AND state = $14 AND tip_sha = $15`, append(args, string(from), tip)...)
	if err != nil {
		return false, fmt.Errorf("advance generated tests of #%d: %w", r.Number, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// GeneratedTests are a source pull request's generated tests, or
// ErrNotFound (wrapping gentest.ErrNotFound).
func (db *DB) GeneratedTests(ctx context.Context, repositoryID int64, number int) (gentest.Record, error) {
	return scanGenerated(db.sql.QueryRowContext(ctx, `SELECT `+generatedColumns+` FROM generated_tests
		WHERE repository_id = $1 AND number = $2`, repositoryID, number))
}

// GeneratedTestsAt are the generated tests whose branch is at commit tip
// (what CI's results on tip are about), or ErrNotFound.
func (db *DB) GeneratedTestsAt(ctx context.Context, repositoryID int64, tip string) (gentest.Record, error) {
	return scanGenerated(db.sql.QueryRowContext(ctx, `SELECT `+generatedColumns+` FROM generated_tests
		WHERE repository_id = $1 AND tip_sha = $2 ORDER BY updated_at DESC LIMIT 1`, repositoryID, tip))
}
