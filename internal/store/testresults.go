package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ferry-ci/ferry/internal/testsel"
)

// SourceRead reports whether a report was read already.
func (db *DB) SourceRead(ctx context.Context, repositoryID int64, source string) (bool, error) {
	var n int
	err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM test_sources WHERE repository_id = $1 AND source = $2`,
		repositoryID, source).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read test source: %w", err)
	}
	return n > 0, nil
}

// SaveRun records a report's results and that it was read, in one
// transaction: a retry adds nothing.
func (db *DB) SaveRun(ctx context.Context, repositoryID int64, run testsel.Run) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		for _, r := range run.Results {
			if _, err := tx.ExecContext(ctx, `INSERT INTO test_results (repository_id, source, sha, grp, suite, test, outcome, at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
				repositoryID, run.ID, run.SHA, run.Group, r.Suite, r.Test, string(r.Outcome), run.At.UTC()); err != nil {
				return fmt.Errorf("save test result: %w", err)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO test_sources (repository_id, source, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			repositoryID, run.ID, run.At.UTC())
		if err != nil {
			return fmt.Errorf("save test source: %w", err)
		}
		return nil
	})
}

// Runs are a repository's reports since a time, as runs.
func (db *DB) Runs(ctx context.Context, repositoryID int64, since time.Time) ([]testsel.Run, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT source, sha, grp, suite, test, outcome, at FROM test_results
		WHERE repository_id = $1 AND at >= $2 ORDER BY at, source`, repositoryID, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("list test results: %w", err)
	}
	defer rows.Close()
	var out []testsel.Run
	for rows.Next() {
		var (
			source, sha, grp, suite, test, outcome string
			at                                     time.Time
		)
		if err := rows.Scan(&source, &sha, &grp, &suite, &test, &outcome, &at); err != nil {
			return nil, fmt.Errorf("list test results: %w", err)
		}
		if n := len(out); n == 0 || out[n-1].ID != source {
			out = append(out, testsel.Run{ID: source, SHA: sha, Group: grp, At: at.UTC()})
		}
		out[len(out)-1].Results = append(out[len(out)-1].Results, testsel.Result{Suite: suite, Test: test, Outcome: testsel.Outcome(outcome)})
	}
	return out, rows.Err()
}

// SaveQuarantine records a quarantine's state (before its side effect).
func (db *DB) SaveQuarantine(ctx context.Context, repositoryID int64, q testsel.Record, at time.Time) error {
	return db.exec(ctx, "save quarantine", `INSERT INTO quarantines (repository_id, test, state, issue, reason, events, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (repository_id, test) DO UPDATE SET state = $3, issue = CASE WHEN $4 = 0 THEN quarantines.issue ELSE $4 END,
		reason = CASE WHEN $5 = '' THEN quarantines.reason ELSE $5 END,
		events = CASE WHEN $6 = 0 THEN quarantines.events ELSE $6 END, updated_at = $7`,
		repositoryID, q.Test, string(q.State), q.Issue, q.Reason, q.Events, at.UTC())
}

// Quarantines lists a repository's quarantine records.
func (db *DB) Quarantines(ctx context.Context, repositoryID int64) ([]testsel.Record, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT test, state, issue, reason, events FROM quarantines WHERE repository_id = $1 ORDER BY test`,
		repositoryID)
	if err != nil {
		return nil, fmt.Errorf("list quarantines: %w", err)
	}
	defer rows.Close()
	var out []testsel.Record
	for rows.Next() {
		var q testsel.Record
		var state string
		if err := rows.Scan(&q.Test, &state, &q.Issue, &q.Reason, &q.Events); err != nil {
			return nil, fmt.Errorf("list quarantines: %w", err)
		}
		q.State = testsel.RecordState(state)
		out = append(out, q)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return out, nil
}
