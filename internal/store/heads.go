package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// RecordPush records that login pushed head as a pull request's head (the
// sender of its opened, reopened or synchronize event). Recording it twice
// is harmless.
func (db *DB) RecordPush(ctx context.Context, repositoryID int64, number int, head, login string, at time.Time) error {
	return db.exec(ctx, "record push", `INSERT INTO pull_request_heads (repository_id, number, head_sha, pushed_by, at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, repositoryID, number, head, login, at.UTC())
}

// Pushers lists who pushed head as the head of a pull request, as ferry saw
// it (usually one login; none if ferry missed the event).
func (db *DB) Pushers(ctx context.Context, repositoryID int64, number int, head string) ([]string, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT pushed_by FROM pull_request_heads
		WHERE repository_id = $1 AND number = $2 AND head_sha = $3 ORDER BY at`, repositoryID, number, head)
	if err != nil {
		return nil, fmt.Errorf("pushers of %d#%d: %w", repositoryID, number, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("pushers of %d#%d: %w", repositoryID, number, err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// CommentPending marks a comment whose create was sent but whose id was not
// recorded: a retry looks it up once instead of creating a second.
const CommentPending = -1

// CommentID returns the id recorded for ferry's comment key on an issue or
// pull request (CommentPending while a create is in flight), or 0.
func (db *DB) CommentID(ctx context.Context, installationID int64, repository string, number int, key string) (int64, error) {
	var id int64
	err := db.sql.QueryRowContext(ctx, `SELECT comment_id FROM comments
		WHERE installation_id = $1 AND repository = $2 AND number = $3 AND comment_key = $4`,
		installationID, strings.ToLower(repository), number, key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("comment %s on %s#%d: %w", key, repository, number, err)
	}
	return id, nil
}

// SetCommentID records the id of ferry's comment key (or CommentPending
// before it is created; 0 forgets it).
func (db *DB) SetCommentID(ctx context.Context, installationID int64, repository string, number int, key string, id int64) error {
	repository = strings.ToLower(repository)
	if id == 0 {
		return db.exec(ctx, "forget comment", `DELETE FROM comments
			WHERE installation_id = $1 AND repository = $2 AND number = $3 AND comment_key = $4`, installationID, repository, number, key)
	}
	return db.exec(ctx, "record comment", `INSERT INTO comments (installation_id, repository, number, comment_key, comment_id)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (installation_id, repository, number, comment_key) DO UPDATE SET comment_id = $5`,
		installationID, repository, number, key, id)
}
