package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ferry-ci/ferry/internal/llm"
)

// TokensUsed sums the tokens an installation spent on the model since a
// time; answers from the cache spent none.
func (db *DB) TokensUsed(ctx context.Context, installation int64, since time.Time) (int64, error) {
	var n int64
	err := db.sql.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(prompt_tokens + completion_tokens), 0) AS BIGINT) FROM llm_usage
		WHERE installation_id = $1 AND at >= $2 AND NOT cached`, installation, since.UTC()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sum tokens of installation %d: %w", installation, err)
	}
	return n, nil
}

// RecordUsage records what one question cost.
func (db *DB) RecordUsage(ctx context.Context, u llm.Usage) error {
	return db.exec(ctx, "record model usage", `INSERT INTO llm_usage
		(installation_id, feature, model, prompt_tokens, completion_tokens, cached, at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		u.Installation, u.Feature, u.Model, int64(u.PromptTokens), int64(u.CompletionTokens), u.Cached, u.At.UTC())
}

// CachedAnswer is the answer kept under key, if any.
func (db *DB) CachedAnswer(ctx context.Context, key string) (string, bool, error) {
	var answer string
	err := db.sql.QueryRowContext(ctx, `SELECT answer FROM llm_cache WHERE key = $1`, key).Scan(&answer)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read cached answer: %w", err)
	}
	return answer, true, nil
}

// CacheAnswer keeps a valid answer under key (replacing one kept before).
func (db *DB) CacheAnswer(ctx context.Context, key, model, text string, at time.Time) error {
	return db.exec(ctx, "cache answer", `INSERT INTO llm_cache (key, model, answer, at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (key) DO UPDATE SET model = excluded.model, answer = excluded.answer, at = excluded.at`,
		key, model, text, at.UTC())
}

// LLMSpend is what one feature spent on one model.
type LLMSpend struct {
	Feature, Model                 string
	Calls, Cached                  int // questions asked; of them, answered from the cache
	PromptTokens, CompletionTokens int64
}

// LLMUsage is what an installation spent since a time, by feature and
// model (for ferry audit); installation 0 means every installation.
func (db *DB) LLMUsage(ctx context.Context, installation int64, since time.Time) ([]LLMSpend, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT feature, model, COUNT(*),
		CAST(COALESCE(SUM(CASE WHEN cached THEN 1 ELSE 0 END), 0) AS BIGINT),
		CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT), CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT)
		FROM llm_usage WHERE (CAST($1 AS BIGINT) = 0 OR installation_id = $1) AND at >= $2
		GROUP BY feature, model ORDER BY feature, model`, installation, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("sum model usage: %w", err)
	}
	defer rows.Close()
	var out []LLMSpend
	for rows.Next() {
		var s LLMSpend
		var cached int64
		if err := rows.Scan(&s.Feature, &s.Model, &s.Calls, &cached, &s.PromptTokens, &s.CompletionTokens); err != nil {
			return nil, fmt.Errorf("sum model usage: %w", err)
		}
		s.Cached = int(cached)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sum model usage: %w", err)
	}
	return out, nil
}
