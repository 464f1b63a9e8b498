package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/control"
)

// RecordDecision appends a decision; one with the same id (a retry) is
// left as it was. number is the pull request it concerns, or 0.
func (db *DB) RecordDecision(ctx context.Context, d audit.Decision, number int) error {
	return recordDecision(ctx, db.sql, d, number)
}

func recordDecision(ctx context.Context, q Querier, d audit.Decision, number int) error {
	reasons, err := json.Marshal(d.Reasons)
	if err != nil {
		return fmt.Errorf("encode reasons: %w", err)
	}
	_, err = q.ExecContext(ctx, `
		INSERT INTO decisions (id, at, repository_id, repository, subject, number, kind, actor, inputs_digest, output, reasons)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING`,
		d.ID, d.At.UTC(), d.RepositoryID, d.Repository, d.Subject, number, string(d.Kind), d.Actor, d.InputsDigest, d.Output, string(reasons))
	if err != nil {
		return fmt.Errorf("record decision %s: %w", d.ID, err)
	}
	return nil
}

// RecordOutcome says what became of a decision (appended; the latest
// counts).
func (db *DB) RecordOutcome(ctx context.Context, decisionID, outcome, actor string, at time.Time) error {
	return db.exec(ctx, "record outcome of "+decisionID,
		`INSERT INTO decision_outcomes (decision_id, at, outcome, actor) VALUES ($1, $2, $3, $4)`, decisionID, at.UTC(), outcome, actor)
}

// Decisions lists decisions, newest first, each with its latest outcome.
func (db *DB) Decisions(ctx context.Context, f audit.Filter) ([]audit.Decision, error) {
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	rows, err := db.sql.QueryContext(ctx, `
		SELECT d.id, d.at, d.repository_id, d.repository, d.subject, d.kind, d.actor, d.inputs_digest, d.output, d.reasons,
		       COALESCE((SELECT o.outcome FROM decision_outcomes o WHERE o.decision_id = d.id ORDER BY o.at DESC LIMIT 1), '')
		FROM decisions d
		WHERE ($1 = '' OR d.repository = $1) AND ($2 = 0 OR d.number = $2) AND d.at >= $3
		ORDER BY d.at DESC, d.id DESC LIMIT $4`, f.Repository, f.Number, f.Since.UTC(), f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list decisions: %w", err)
	}
	defer rows.Close()
	var out []audit.Decision
	for rows.Next() {
		var (
			d       audit.Decision
			reasons string
		)
		if err := rows.Scan(&d.ID, &d.At, &d.RepositoryID, &d.Repository, &d.Subject, &d.Kind, &d.Actor, &d.InputsDigest,
			&d.Output, &reasons, &d.Outcome); err != nil {
			return nil, fmt.Errorf("list decisions: %w", err)
		}
		if err := json.Unmarshal([]byte(reasons), &d.Reasons); err != nil {
			return nil, fmt.Errorf("decode reasons of %s: %w", d.ID, err)
		}
		d.At = d.At.UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// SetPause pauses a repository or environment and records the decision,
// in one transaction.
func (db *DB) SetPause(ctx context.Context, repositoryID int64, p control.Pause, d audit.Decision, number int) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		if err := recordDecision(ctx, tx, d, number); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO pauses (repository_id, environment, paused_by, reason, at, decision_id) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (repository_id, environment) DO UPDATE SET paused_by = $3, reason = $4, at = $5, decision_id = $6`,
			repositoryID, p.Environment, p.By, p.Reason, p.At.UTC(), d.ID)
		if err != nil {
			return fmt.Errorf("pause: %w", err)
		}
		return nil
	})
}

// Resume lifts a pause ("*": every pause of the repository) and records the
// decision. resumed is false when nothing was paused.
func (db *DB) Resume(ctx context.Context, repositoryID int64, environment string, d audit.Decision, number int) (resumed bool, err error) {
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		if err := recordDecision(ctx, tx, d, number); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM pauses WHERE repository_id = $1 AND ($2 = '*' OR environment = $2)`,
			repositoryID, environment)
		if err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		n, err := res.RowsAffected()
		resumed = n > 0
		return err
	})
	return resumed, err
}

// Paused returns the pause that applies to an environment ("" or "*": the
// repository-wide one), or nil.
func (db *DB) Paused(ctx context.Context, repositoryID int64, environment string) (*control.Pause, error) {
	var p control.Pause
	err := db.sql.QueryRowContext(ctx, `
		SELECT environment, paused_by, reason, at FROM pauses
		WHERE repository_id = $1 AND (environment = '*' OR environment = $2)
		ORDER BY CASE WHEN environment = '*' THEN 0 ELSE 1 END LIMIT 1`, repositoryID, environment).Scan(&p.Environment, &p.By, &p.Reason, &p.At)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pause: %w", err)
	}
	p.At = p.At.UTC()
	return &p, nil
}

// Approve records an approval of a pull request's head and its decision.
func (db *DB) Approve(ctx context.Context, repositoryID int64, number int, a control.Approval, d audit.Decision) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		if err := recordDecision(ctx, tx, d, number); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO approvals (repository_id, number, head_sha, approved_by, at, decision_id) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT DO NOTHING`, repositoryID, number, a.HeadSHA, a.By, a.At.UTC(), d.ID)
		if err != nil {
			return fmt.Errorf("approve: %w", err)
		}
		return nil
	})
}

// Approvals lists a pull request's approvals, newest first (of any head:
// the caller tells current from void).
func (db *DB) Approvals(ctx context.Context, repositoryID int64, number int) ([]control.Approval, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT approved_by, head_sha, at FROM approvals
		WHERE repository_id = $1 AND number = $2 ORDER BY at DESC`, repositoryID, number)
	if err != nil {
		return nil, fmt.Errorf("list approvals: %w", err)
	}
	defer rows.Close()
	var out []control.Approval
	for rows.Next() {
		var a control.Approval
		if err := rows.Scan(&a.By, &a.HeadSHA, &a.At); err != nil {
			return nil, fmt.Errorf("list approvals: %w", err)
		}
		a.At = a.At.UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}
