-- The risk model ferry learns per repository: what its history taught
-- (files, authors, labelled changes, the fitted model), as the learner's
-- own state (gzipped JSON, base64), and the version each save advances so
-- two jobs never overwrite each other's learning.

-- +goose Up
CREATE TABLE risk_models (
    repository_id BIGINT PRIMARY KEY,
    state         TEXT NOT NULL,
    version       BIGINT NOT NULL,
    changes       INTEGER NOT NULL,   -- changes learned from
    head_sha      TEXT NOT NULL,      -- the newest commit learned
    updated_at    TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE risk_models;
