-- Trust hardening: what a deploy waits for and why it ended are typed
-- columns (never read back out of a message); who pushed each pull
-- request head; the ids of ferry's own comments.

-- +goose Up
ALTER TABLE deploys ADD COLUMN hold_cause TEXT NOT NULL DEFAULT '';        -- why it waits now: queue, paused, frozen, analysis, migrations, gate
ALTER TABLE deploys ADD COLUMN needs_force BOOLEAN NOT NULL DEFAULT FALSE;  -- a migration hold: only a forced rollback lifts it; later holds never clear it
ALTER TABLE deploys ADD COLUMN end_cause TEXT NOT NULL DEFAULT '';          -- how it ended: completed, rolled-back-auto, rolled-back-request, step-failed, gate, gave-up, nothing-to-roll-back
ALTER TABLE deploys ADD COLUMN approval TEXT NOT NULL DEFAULT '';           -- JSON: why a human must approve (empty: no one needs to)

-- The login that pushed each head of a pull request (the event's sender):
-- nobody approves what they pushed themselves.
CREATE TABLE pull_request_heads (
    repository_id BIGINT NOT NULL,
    number        INTEGER NOT NULL,
    head_sha      TEXT NOT NULL,
    pushed_by     TEXT NOT NULL,
    at            TIMESTAMP NOT NULL,
    PRIMARY KEY (repository_id, number, head_sha, pushed_by)
);

-- ferry's own comments by key, so it edits them by id instead of paging
-- through every comment of an issue to find its marker. comment_id -1: a
-- create was sent and its answer not recorded (look it up once).
CREATE TABLE comments (
    installation_id BIGINT NOT NULL,
    repository      TEXT NOT NULL,  -- owner/name, lower case
    number          INTEGER NOT NULL,
    comment_key     TEXT NOT NULL,
    comment_id      BIGINT NOT NULL,
    PRIMARY KEY (installation_id, repository, number, comment_key)
);

-- +goose Down
DROP TABLE comments;
DROP TABLE pull_request_heads;
ALTER TABLE deploys DROP COLUMN approval;
ALTER TABLE deploys DROP COLUMN end_cause;
ALTER TABLE deploys DROP COLUMN needs_force;
ALTER TABLE deploys DROP COLUMN hold_cause;
