-- What the language model cost and what it answered: one row per question
-- asked (an installation's feature on a model; an answer from the cache is
-- a row that spent nothing), read for the daily budget and `ferry audit`;
-- one row per valid answer, keyed by a digest of everything asked, so the
-- same question is not paid for twice. `at` lets retention prune both.

-- +goose Up
CREATE TABLE llm_usage (
    installation_id   BIGINT NOT NULL,
    feature           TEXT NOT NULL,
    model             TEXT NOT NULL,
    prompt_tokens     BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    cached            BOOLEAN NOT NULL DEFAULT FALSE, -- answered from llm_cache: spent nothing
    at                TIMESTAMP NOT NULL
);
CREATE INDEX llm_usage_by_time ON llm_usage (installation_id, at);

CREATE TABLE llm_cache (
    key    TEXT PRIMARY KEY,              -- hex SHA-256 of model, messages, schema, max tokens
    model  TEXT NOT NULL,
    answer TEXT NOT NULL,
    at     TIMESTAMP NOT NULL
);
CREATE INDEX llm_cache_by_time ON llm_cache (at);

-- +goose Down
DROP TABLE llm_cache;
DROP TABLE llm_usage;
