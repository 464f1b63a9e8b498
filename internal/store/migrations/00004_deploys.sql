-- Deploys and their steps: the deploy agent's durable state machine.

-- +goose Up
CREATE TABLE deploys (
    id                   TEXT PRIMARY KEY,          -- from what asked for it: a retry finds the same deploy
    repository_id        BIGINT NOT NULL,
    repository           TEXT NOT NULL,
    installation_id      BIGINT NOT NULL,
    environment          TEXT NOT NULL,
    kind                 TEXT NOT NULL,             -- deploy, rollback
    sha                  TEXT NOT NULL,
    ref                  TEXT NOT NULL DEFAULT '',
    number               INTEGER NOT NULL DEFAULT 0, -- the pull request it came from, if any
    actor                TEXT NOT NULL,
    strategy             TEXT NOT NULL,
    reasons              TEXT NOT NULL DEFAULT '',
    status               TEXT NOT NULL,             -- queued, running, succeeded, failed, superseded
    step                 INTEGER NOT NULL DEFAULT 0, -- the next step to run
    env                  TEXT NOT NULL DEFAULT '',  -- JSON: the environment as the default branch's policy said at the request
    plan                 TEXT NOT NULL DEFAULT '',  -- JSON steps, fixed when the deploy starts
    known_good           TEXT NOT NULL DEFAULT '',  -- JSON: what ran before, for a rollback
    message              TEXT NOT NULL DEFAULT '',
    analysis             TEXT NOT NULL DEFAULT '',  -- JSON: the metric judge's state between checks
    rollback_by          TEXT NOT NULL DEFAULT '',  -- a person asked to roll this deploy back (e.g. forced past a migration hold)
    github_deployment_id BIGINT NOT NULL DEFAULT 0,
    created_at           TIMESTAMP NOT NULL,
    started_at           TIMESTAMP NULL,
    finished_at          TIMESTAMP NULL
);
CREATE INDEX deploys_environment ON deploys (repository_id, environment, created_at);

-- A step's row is written before its action is sent. A retry that finds
-- it sends the action again (every action is idempotent: the same image,
-- the same replicas) and counts it, so a crash never skips a step and never
-- changes the cluster twice.
CREATE TABLE deploy_steps (
    deploy_id  TEXT NOT NULL REFERENCES deploys (id),
    n          INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    note       TEXT NOT NULL,
    applied_at TIMESTAMP NOT NULL,
    done_at    TIMESTAMP NULL,
    applies    INTEGER NOT NULL DEFAULT 1, -- how often the action was sent (1 unless a crash came between)
    PRIMARY KEY (deploy_id, n)
);

-- +goose Down
DROP TABLE deploy_steps;
DROP TABLE deploys;
