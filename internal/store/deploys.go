package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/rollout"
)

const deployColumns = `id, repository_id, repository, installation_id, environment, kind, sha, ref, number, actor, strategy,
	reasons, status, step, env, plan, known_good, message, github_deployment_id, rollback_by, created_at, started_at, finished_at,
	hold_cause, needs_force, end_cause, approval`

func scanDeploy(row interface{ Scan(...any) error }) (deploy.Deploy, error) {
	var (
		d                 deploy.Deploy
		env, plan, known  string
		hold, end, appr   string
		started, finished sql.NullTime
	)
	err := row.Scan(&d.ID, &d.RepositoryID, &d.Repository, &d.InstallationID, &d.Environment, &d.Kind, &d.SHA, &d.Ref, &d.Number,
		&d.Actor, &d.Strategy, &d.Reasons, &d.Status, &d.Step, &env, &plan, &known, &d.Message, &d.GitHubDeploymentID, &d.RollbackBy, &d.CreatedAt,
		&started, &finished, &hold, &d.NeedsForce, &end, &appr)
	if err != nil {
		return d, err
	}
	d.Env, d.Plan, d.KnownGood, d.CreatedAt = []byte(env), []byte(plan), []byte(known), d.CreatedAt.UTC()
	d.HoldCause, d.EndCause, d.Approval = deploy.HoldCause(hold), deploy.EndCause(end), []byte(appr)
	if started.Valid {
		d.StartedAt = started.Time.UTC()
	}
	if finished.Valid {
		d.FinishedAt = finished.Time.UTC()
	}
	return d, nil
}

// CreateDeploy records a queued deploy and, in the same transaction,
// whatever enqueue writes (its job). created is false when a deploy with
// this id exists (a retry): nothing is written then.
func (db *DB) CreateDeploy(ctx context.Context, d deploy.Deploy, enqueue func(tx *sql.Tx) error) (created bool, err error) {
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO deploys (id, repository_id, repository, installation_id, environment, kind, sha, ref, number, actor,
			                     strategy, reasons, status, created_at, env, approval)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (id) DO NOTHING`,
			d.ID, d.RepositoryID, d.Repository, d.InstallationID, d.Environment, string(d.Kind), d.SHA, d.Ref, d.Number, d.Actor,
			string(d.Strategy), d.Reasons, string(deploy.Queued), d.CreatedAt.UTC(), string(d.Env), string(d.Approval))
		if err != nil {
			return fmt.Errorf("create deploy %s: %w", d.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		created = true
		return enqueue(tx)
	})
	return created, err
}

// GetDeploy loads a deploy.
func (db *DB) GetDeploy(ctx context.Context, id string) (deploy.Deploy, error) {
	d, err := scanDeploy(db.sql.QueryRowContext(ctx, `SELECT `+deployColumns+` FROM deploys WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return deploy.Deploy{}, fmt.Errorf("deploy %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return deploy.Deploy{}, fmt.Errorf("get deploy %s: %w", id, err)
	}
	return d, nil
}

// Deploys lists an environment's deploys, newest first.
func (db *DB) Deploys(ctx context.Context, repositoryID int64, environment string) ([]deploy.Deploy, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+deployColumns+` FROM deploys
		WHERE repository_id = $1 AND environment = $2 ORDER BY created_at DESC, id DESC`, repositoryID, environment)
	if err != nil {
		return nil, fmt.Errorf("list deploys: %w", err)
	}
	defer rows.Close()
	var out []deploy.Deploy
	for rows.Next() {
		d, err := scanDeploy(rows)
		if err != nil {
			return nil, fmt.Errorf("list deploys: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// StartDeploy fixes a deploy's plan and what ran before it, and marks it
// running (once: a retry keeps the first plan).
func (db *DB) StartDeploy(ctx context.Context, id string, strategy policy.Strategy, reasons string, plan, knownGood []byte, at time.Time) error {
	return db.exec(ctx, "start deploy "+id, `UPDATE deploys SET status = $1, plan = $2, known_good = $3, started_at = $4,
		strategy = $5, reasons = $6 WHERE id = $7 AND status = $8`,
		string(deploy.Running), string(plan), string(knownGood), at.UTC(), string(strategy), reasons, id, string(deploy.Queued))
}

// SetDeployGitHub records the GitHub deployment of a deploy.
func (db *DB) SetDeployGitHub(ctx context.Context, id string, githubID int64) error {
	return db.exec(ctx, "set github deployment of "+id, `UPDATE deploys SET github_deployment_id = $1 WHERE id = $2`, githubID, id)
}

// SetDeployMessage records what the deploy is doing; it no longer waits
// (a migration hold's need for force stays).
func (db *DB) SetDeployMessage(ctx context.Context, id, msg string) error {
	return db.exec(ctx, "message of deploy "+id, `UPDATE deploys SET message = $1, hold_cause = '' WHERE id = $2`, msg, id)
}

// HoldDeploy records why the deploy waits. A migrations hold also marks the
// deploy as needing force to roll back, for good: a later hold of another
// cause changes the message and cause, never that.
func (db *DB) HoldDeploy(ctx context.Context, id string, cause deploy.HoldCause, msg string) error {
	return db.exec(ctx, "hold deploy "+id, `UPDATE deploys SET message = $1, hold_cause = $2,
		needs_force = (needs_force OR $3) WHERE id = $4`, msg, string(cause), cause == deploy.HoldMigrations, id)
}

// FinishDeploy ends a deploy.
func (db *DB) FinishDeploy(ctx context.Context, id string, status deploy.Status, cause deploy.EndCause, message string, at time.Time) error {
	return db.exec(ctx, "finish deploy "+id, `UPDATE deploys SET status = $1, end_cause = $2, message = $3, finished_at = $4,
		hold_cause = '' WHERE id = $5`, string(status), string(cause), message, at.UTC(), id)
}

// StepApplying records that step n is about to act and returns how often
// it has been sent (1 the first time).
func (db *DB) StepApplying(ctx context.Context, id string, n int, kind rollout.StepKind, note string, at time.Time) (applies int, err error) {
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO deploy_steps (deploy_id, n, kind, note, applied_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (deploy_id, n) DO UPDATE SET applies = deploy_steps.applies + 1`, id, n, string(kind), note, at.UTC())
		if err != nil {
			return fmt.Errorf("step %d of %s: %w", n, id, err)
		}
		return tx.QueryRowContext(ctx, `SELECT applies FROM deploy_steps WHERE deploy_id = $1 AND n = $2`, id, n).Scan(&applies)
	})
	return applies, err
}

// DeploySteps lists a deploy's recorded steps in order.
func (db *DB) DeploySteps(ctx context.Context, id string) ([]deploy.StepRecord, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT n, kind, note, applied_at, done_at, applies FROM deploy_steps
		WHERE deploy_id = $1 ORDER BY n`, id)
	if err != nil {
		return nil, fmt.Errorf("deploy steps: %w", err)
	}
	defer rows.Close()
	var out []deploy.StepRecord
	for rows.Next() {
		var (
			s    deploy.StepRecord
			done sql.NullTime
		)
		if err := rows.Scan(&s.N, &s.Kind, &s.Note, &s.AppliedAt, &done, &s.Applies); err != nil {
			return nil, fmt.Errorf("deploy steps: %w", err)
		}
		s.AppliedAt = s.AppliedAt.UTC()
		if done.Valid {
			s.DoneAt = done.Time.UTC()
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// StepDone records that step n has settled and moves the deploy on.
func (db *DB) StepDone(ctx context.Context, id string, n int, at time.Time) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE deploy_steps SET done_at = $1 WHERE deploy_id = $2 AND n = $3`, at.UTC(), id, n); err != nil {
			return fmt.Errorf("step %d of %s done: %w", n, id, err)
		}
		_, err := tx.ExecContext(ctx, `UPDATE deploys SET step = $1 WHERE id = $2 AND step = $3`, n+1, id, n)
		if err != nil {
			return fmt.Errorf("advance deploy %s: %w", id, err)
		}
		return nil
	})
}

// AnalysisState returns the metric judge's state of a deploy ("" if none).
func (db *DB) AnalysisState(ctx context.Context, id string) ([]byte, error) {
	var s string
	if err := db.sql.QueryRowContext(ctx, `SELECT analysis FROM deploys WHERE id = $1`, id).Scan(&s); err != nil {
		return nil, fmt.Errorf("analysis state of %s: %w", id, err)
	}
	return []byte(s), nil
}

// SetAnalysisState keeps the metric judge's state between checks.
func (db *DB) SetAnalysisState(ctx context.Context, id string, state []byte) error {
	return db.exec(ctx, "analysis state of "+id, `UPDATE deploys SET analysis = $1 WHERE id = $2`, string(state), id)
}

// AskRollback records that a person asked to roll a running deploy back;
// the deploy's next step does it.
func (db *DB) AskRollback(ctx context.Context, id, by string) error {
	return db.exec(ctx, "ask rollback of "+id, `UPDATE deploys SET rollback_by = $1 WHERE id = $2`, by, id)
}
