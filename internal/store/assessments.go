package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/assessment"
	"github.com/ferry-ci/ferry/internal/risk"
)

// SaveAssessment stores a unless an assessment with its id exists, and
// returns the stored row: on a retry, the one with the ids of what was
// already published.
func (db *DB) SaveAssessment(ctx context.Context, a assessment.Record) (assessment.Record, error) {
	_, err := db.sql.ExecContext(ctx, `
		INSERT INTO assessments (id, repository_id, repository, number, kind, base_sha, head_sha, level, score,
		                         rules, result, policy_source, event_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (id) DO NOTHING`,
		a.ID, a.RepositoryID, a.Repository, a.Number, string(a.Kind), a.BaseSHA, a.HeadSHA, string(a.Level), a.Score,
		strings.Join(a.Rules, ","), string(a.Result), a.PolicySource, a.EventAt.UTC(), a.CreatedAt.UTC())
	if err != nil {
		return assessment.Record{}, fmt.Errorf("save assessment %s: %w", a.ID, err)
	}
	return db.GetAssessment(ctx, a.ID)
}

const assessmentColumns = `id, repository_id, repository, number, kind, base_sha, head_sha, level, score, rules,
	result, policy_source, event_at, created_at, check_run_started, check_run_id, comment_id, published_at`

func scanAssessment(row interface{ Scan(...any) error }) (assessment.Record, error) {
	var (
		a         assessment.Record
		rules     string
		result    string
		published sql.NullTime
	)
	err := row.Scan(&a.ID, &a.RepositoryID, &a.Repository, &a.Number, &a.Kind, &a.BaseSHA, &a.HeadSHA, &a.Level, &a.Score,
		&rules, &result, &a.PolicySource, &a.EventAt, &a.CreatedAt, &a.CheckRunStarted, &a.CheckRunID, &a.CommentID, &published)
	if err != nil {
		return assessment.Record{}, err
	}
	if rules != "" {
		a.Rules = strings.Split(rules, ",")
	}
	a.Result, a.Published = []byte(result), published.Valid
	a.EventAt, a.CreatedAt = a.EventAt.UTC(), a.CreatedAt.UTC()
	return a, nil
}

// GetAssessment loads one assessment.
func (db *DB) GetAssessment(ctx context.Context, id string) (assessment.Record, error) {
	a, err := scanAssessment(db.sql.QueryRowContext(ctx, `SELECT `+assessmentColumns+` FROM assessments WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return assessment.Record{}, fmt.Errorf("get assessment %s: %w", id, errNoAssessment)
	}
	if err != nil {
		return assessment.Record{}, fmt.Errorf("get assessment %s: %w", id, err)
	}
	return a, nil
}

// LatestAssessment is the most recent assessment of a pull request (number
// 0: of pushes) other than except, or ErrNotFound.
func (db *DB) LatestAssessment(ctx context.Context, repositoryID int64, number int, except string) (assessment.Record, error) {
	a, err := scanAssessment(db.sql.QueryRowContext(ctx, `
		SELECT `+assessmentColumns+` FROM assessments
		WHERE repository_id = $1 AND number = $2 AND id <> $3
		ORDER BY event_at DESC, created_at DESC LIMIT 1`, repositoryID, number, except))
	if errors.Is(err, sql.ErrNoRows) {
		return assessment.Record{}, fmt.Errorf("latest assessment of %d#%d: %w", repositoryID, number, errNoAssessment)
	}
	if err != nil {
		return assessment.Record{}, fmt.Errorf("latest assessment of %d#%d: %w", repositoryID, number, err)
	}
	return a, nil
}

// AssessmentOf is the most recent assessment of a pull request's (number
// 0: a push's) given head commit, or ErrNotFound.
func (db *DB) AssessmentOf(ctx context.Context, repositoryID int64, number int, head string) (assessment.Record, error) {
	a, err := scanAssessment(db.sql.QueryRowContext(ctx, `
		SELECT `+assessmentColumns+` FROM assessments
		WHERE repository_id = $1 AND number = $2 AND head_sha = $3
		ORDER BY event_at DESC, created_at DESC LIMIT 1`, repositoryID, number, head))
	if errors.Is(err, sql.ErrNoRows) {
		return assessment.Record{}, fmt.Errorf("assessment of %d#%d at %s: %w", repositoryID, number, head, errNoAssessment)
	}
	if err != nil {
		return assessment.Record{}, fmt.Errorf("assessment of %d#%d at %s: %w", repositoryID, number, head, err)
	}
	return a, nil
}

// Assessments lists a repository's assessments, newest first.
func (db *DB) Assessments(ctx context.Context, repositoryID int64, limit int) ([]assessment.Record, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+assessmentColumns+` FROM assessments
		WHERE repository_id = $1 ORDER BY created_at DESC, event_at DESC LIMIT $2`, repositoryID, limit)
	if err != nil {
		return nil, fmt.Errorf("list assessments: %w", err)
	}
	defer rows.Close()
	var out []assessment.Record
	for rows.Next() {
		a, err := scanAssessment(rows)
		if err != nil {
			return nil, fmt.Errorf("list assessments: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CheckRunStarting records, before the request, that a check run is about
// to be created for the assessment.
func (db *DB) CheckRunStarting(ctx context.Context, id string) error {
	return db.exec(ctx, "mark check run of "+id, `UPDATE assessments SET check_run_started = TRUE WHERE id = $1`, id)
}

// SetCheckRun records the check run created for an assessment.
func (db *DB) SetCheckRun(ctx context.Context, id string, checkRunID int64) error {
	return db.exec(ctx, "set check run of "+id, `UPDATE assessments SET check_run_id = $1 WHERE id = $2`, checkRunID, id)
}

// PublishAssessment records that everything was published.
func (db *DB) PublishAssessment(ctx context.Context, id string, commentID int64, at time.Time) error {
	return db.exec(ctx, "publish assessment "+id,
		`UPDATE assessments SET comment_id = $1, published_at = $2 WHERE id = $3`, commentID, at.UTC(), id)
}

func (db *DB) exec(ctx context.Context, what, query string, args ...any) error {
	if _, err := db.sql.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// RecordPathEvents stores what a push taught; a redelivered push adds
// nothing twice.
func (db *DB) RecordPathEvents(ctx context.Context, repositoryID int64, events []assessment.PathEvent) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		for _, e := range events {
			kind := "change"
			if e.Incident {
				kind = "incident"
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO path_events (repository_id, sha, path, kind, at)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, repositoryID, e.SHA, e.Path, kind, e.At.UTC())
			if err != nil {
				return fmt.Errorf("record path event: %w", err)
			}
		}
		return nil
	})
}

// pathChunk bounds the IN lists (SQLite allows 32,766 parameters).
const pathChunk = 500

// History is what the repository's pushes taught about these paths: every
// incident since since (the history rule also weighs a path's directory,
// so all of them), and how often each path changed.
func (db *DB) History(ctx context.Context, repositoryID int64, paths []string, since time.Time) (risk.History, error) {
	h := risk.History{Incidents: map[string][]time.Time{}, Changes: map[string]int{}}
	rows, err := db.sql.QueryContext(ctx, `SELECT path, at FROM path_events
		WHERE repository_id = $1 AND kind = 'incident' AND at >= $2`, repositoryID, since.UTC())
	if err != nil {
		return h, fmt.Errorf("read incidents: %w", err)
	}
	for rows.Next() {
		var (
			p  string
			at time.Time
		)
		if err := rows.Scan(&p, &at); err != nil {
			rows.Close()
			return h, fmt.Errorf("read incidents: %w", err)
		}
		h.Incidents[p] = append(h.Incidents[p], at.UTC())
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return h, fmt.Errorf("read incidents: %w", err)
	}
	for lo := 0; lo < len(paths); lo += pathChunk {
		if err := db.countChanges(ctx, repositoryID, paths[lo:min(lo+pathChunk, len(paths))], h.Changes); err != nil {
			return h, err
		}
	}
	return h, nil
}

func (db *DB) countChanges(ctx context.Context, repositoryID int64, paths []string, into map[string]int) error {
	args := []any{repositoryID}
	marks := make([]string, len(paths))
	for i, p := range paths {
		args = append(args, p)
		marks[i] = fmt.Sprintf("$%d", i+2)
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT path, COUNT(*) FROM path_events
		WHERE repository_id = $1 AND kind = 'change' AND path IN (`+strings.Join(marks, ",")+`) GROUP BY path`, args...)
	if err != nil {
		return fmt.Errorf("count changes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			p string
			n int
		)
		if err := rows.Scan(&p, &n); err != nil {
			return fmt.Errorf("count changes: %w", err)
		}
		into[p] = n
	}
	return rows.Err()
}

// WaitingAssessments are the assessments not yet published (they waited
// for a pause to end) that are the latest of their pull request or, for
// pushes, not older than a published push assessment.
func (db *DB) WaitingAssessments(ctx context.Context, repositoryID int64) ([]assessment.Record, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+assessmentColumns+` FROM assessments a
		WHERE a.repository_id = $1 AND a.published_at IS NULL
		  AND NOT EXISTS (SELECT 1 FROM assessments b WHERE b.repository_id = a.repository_id AND b.number = a.number
		                  AND b.id <> a.id AND (b.event_at > a.event_at OR (b.event_at = a.event_at AND b.created_at > a.created_at)))
		ORDER BY a.created_at`, repositoryID)
	if err != nil {
		return nil, fmt.Errorf("waiting assessments: %w", err)
	}
	defer rows.Close()
	var out []assessment.Record
	for rows.Next() {
		a, err := scanAssessment(rows)
		if err != nil {
			return nil, fmt.Errorf("waiting assessments: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// HeadAt is the head of a pull request as ferry last assessed it at or
// before at ("" if it never did): what a comment written at that time saw.
func (db *DB) HeadAt(ctx context.Context, repositoryID int64, number int, at time.Time) (string, error) {
	var head string
	err := db.sql.QueryRowContext(ctx, `SELECT head_sha FROM assessments
		WHERE repository_id = $1 AND number = $2 AND event_at <= $3
		ORDER BY event_at DESC, created_at DESC LIMIT 1`, repositoryID, number, at.UTC()).Scan(&head)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("head of %d#%d at %s: %w", repositoryID, number, at, err)
	}
	return head, nil
}

// errNoAssessment is both the store's ErrNotFound and the agents'.
var errNoAssessment = errors.Join(ErrNotFound, assessment.ErrNotFound)
