-- The spine: who installed ferry, on which repositories, and every webhook
-- delivery it received. One SQL text for SQLite and PostgreSQL: portable
-- types only, ids come from GitHub or from ferry, never from the database.

-- +goose Up
CREATE TABLE installations (
    id            BIGINT PRIMARY KEY, -- GitHub's installation id
    account_login TEXT NOT NULL,
    account_type  TEXT NOT NULL DEFAULT '',
    suspended_at  TIMESTAMP NULL,
    deleted_at    TIMESTAMP NULL,     -- uninstalled; rows stay for the audit trail
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);

CREATE TABLE repositories (
    id              BIGINT PRIMARY KEY, -- GitHub's repository id
    installation_id BIGINT NOT NULL REFERENCES installations (id),
    full_name       TEXT NOT NULL,
    private         BOOLEAN NOT NULL DEFAULT FALSE,
    removed_at      TIMESTAMP NULL,     -- no longer selected for the installation
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX repositories_installation ON repositories (installation_id);

CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,       -- X-GitHub-Delivery
    event           TEXT NOT NULL,
    action          TEXT NOT NULL DEFAULT '',
    received_at     TIMESTAMP NOT NULL,
    payload         TEXT NOT NULL,
    payload_sha256  TEXT NOT NULL UNIQUE,   -- the same signed bytes twice is a replay
    status          TEXT NOT NULL,
    installation_id BIGINT NOT NULL DEFAULT 0,
    repository_id   BIGINT NOT NULL DEFAULT 0,
    repository      TEXT NOT NULL DEFAULT '',
    number          INTEGER NOT NULL DEFAULT 0,
    error           TEXT NOT NULL DEFAULT '',
    finished_at     TIMESTAMP NULL
);
CREATE INDEX deliveries_received_at ON deliveries (received_at);
CREATE INDEX deliveries_status ON deliveries (status);

-- Serial locks keep jobs for one pull request (or one repository and
-- environment) from running at the same time. A lease, not a session lock:
-- a holder that crashed loses it when it expires.
CREATE TABLE serial_locks (
    lock_key   TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE serial_locks;
DROP TABLE deliveries;
DROP TABLE repositories;
DROP TABLE installations;
