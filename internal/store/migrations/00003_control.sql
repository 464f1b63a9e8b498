-- People's control over ferry: the audit trail of every decision, pauses,
-- and approvals of a pull request's head.

-- +goose Up
-- Append-only: ferry inserts decisions and never updates or deletes them;
-- what became of one is a later row in decision_outcomes.
CREATE TABLE decisions (
    id            TEXT PRIMARY KEY,   -- derived from what asked for it: a retry writes nothing new
    at            TIMESTAMP NOT NULL,
    repository_id BIGINT NOT NULL,
    repository    TEXT NOT NULL,
    subject       TEXT NOT NULL,      -- "#12@abc12345", "push@abc12345", "env:production"
    number        INTEGER NOT NULL DEFAULT 0,
    kind          TEXT NOT NULL,
    actor         TEXT NOT NULL,
    inputs_digest TEXT NOT NULL,
    output        TEXT NOT NULL,
    reasons       TEXT NOT NULL DEFAULT '[]' -- JSON
);
CREATE INDEX decisions_repository ON decisions (repository_id, at);

CREATE TABLE decision_outcomes (
    decision_id TEXT NOT NULL REFERENCES decisions (id),
    at          TIMESTAMP NOT NULL,
    outcome     TEXT NOT NULL,
    actor       TEXT NOT NULL
);
CREATE INDEX decision_outcomes_decision ON decision_outcomes (decision_id, at);

-- A pause stops ferry's automated actions in a repository ("*") or one
-- environment until resumed.
CREATE TABLE pauses (
    repository_id BIGINT NOT NULL,
    environment   TEXT NOT NULL,
    paused_by     TEXT NOT NULL,
    reason        TEXT NOT NULL DEFAULT '',
    at            TIMESTAMP NOT NULL,
    decision_id   TEXT NOT NULL,
    PRIMARY KEY (repository_id, environment)
);

-- A human approval binds to the head commit it was given for.
CREATE TABLE approvals (
    repository_id BIGINT NOT NULL,
    number        INTEGER NOT NULL,
    head_sha      TEXT NOT NULL,
    approved_by   TEXT NOT NULL,
    at            TIMESTAMP NOT NULL,
    decision_id   TEXT NOT NULL,
    PRIMARY KEY (repository_id, number, head_sha, approved_by)
);

-- +goose Down
DROP TABLE approvals;
DROP TABLE pauses;
DROP TABLE decision_outcomes;
DROP TABLE decisions;
