-- Deployment protection rule requests ferry answers (GitHub Actions
-- deploying, ferry deciding): what was asked, fixed when it was asked, and
-- how far the answer is — recorded before it is sent, so a retry sends the
-- same answer once.

-- +goose Up
CREATE TABLE gates (
    id              TEXT PRIMARY KEY,          -- the delivery that asked
    installation_id BIGINT NOT NULL,
    repository_id   BIGINT NOT NULL,
    repository      TEXT NOT NULL,
    environment     TEXT NOT NULL,
    sha             TEXT NOT NULL,
    ref             TEXT NOT NULL DEFAULT '',
    run_id          BIGINT NOT NULL,
    number          INTEGER NOT NULL DEFAULT 0,
    request         TEXT NOT NULL,             -- JSON: the environment's policy, who must approve, required checks
    state           TEXT NOT NULL,             -- waiting, answering, answered
    answer          TEXT NOT NULL DEFAULT '',  -- approved, rejected
    comment         TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',  -- the last "not yet" said on the run
    created_at      TIMESTAMP NOT NULL,
    answered_at     TIMESTAMP
);
CREATE INDEX gates_repository ON gates (repository_id, state);

-- +goose Down
DROP TABLE gates;
