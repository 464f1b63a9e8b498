-- Risk assessments, and what ferry learned from pushes about which paths
-- change often and which were reverted.

-- +goose Up
-- One row per assessment, written before anything is published: the
-- check run and comment ids recorded here make a retried job update what
-- it already created instead of creating it twice.
CREATE TABLE assessments (
    id                 TEXT PRIMARY KEY,  -- the delivery (or command) that asked for it
    repository_id      BIGINT NOT NULL,
    repository         TEXT NOT NULL,
    number             INTEGER NOT NULL DEFAULT 0, -- 0 for a push
    kind               TEXT NOT NULL,              -- pull_request, push
    base_sha           TEXT NOT NULL,
    head_sha           TEXT NOT NULL,
    level              TEXT NOT NULL,              -- low, medium, high, invalid-policy
    score              INTEGER NOT NULL,
    rules              TEXT NOT NULL DEFAULT '',   -- the rules that fired, comma-separated
    result             TEXT NOT NULL,              -- JSON: assessment and route
    policy_source      TEXT NOT NULL DEFAULT '',
    event_at           TIMESTAMP NOT NULL,         -- when GitHub says the subject changed
    created_at         TIMESTAMP NOT NULL,
    check_run_started  BOOLEAN NOT NULL DEFAULT FALSE,
    check_run_id       BIGINT NOT NULL DEFAULT 0,
    comment_id         BIGINT NOT NULL DEFAULT 0,
    published_at       TIMESTAMP NULL
);
CREATE INDEX assessments_subject ON assessments (repository_id, number, created_at);

-- A path changed (or was reverted) by a commit on the default branch.
CREATE TABLE path_events (
    repository_id BIGINT NOT NULL,
    sha           TEXT NOT NULL,
    path          TEXT NOT NULL,
    kind          TEXT NOT NULL, -- change, incident
    at            TIMESTAMP NOT NULL,
    PRIMARY KEY (repository_id, sha, path, kind)
);
CREATE INDEX path_events_path ON path_events (repository_id, path);

-- +goose Down
DROP TABLE path_events;
DROP TABLE assessments;
