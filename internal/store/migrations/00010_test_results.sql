-- What CI reported about tests, and the tests ferry quarantined: one row
-- per test per report (an artifact of a workflow run attempt), recorded
-- once; one row per quarantined test with its tracking issue, recorded
-- before the issue or pull request is made.

-- +goose Up
CREATE TABLE test_results (
    repository_id BIGINT NOT NULL,
    source        TEXT NOT NULL,      -- the report: "artifact:<id>"
    sha           TEXT NOT NULL,
    grp           TEXT NOT NULL DEFAULT '', -- the job it came from: only the same job's runs of a commit are compared
    suite         TEXT NOT NULL,
    test          TEXT NOT NULL,
    outcome       TEXT NOT NULL,      -- pass, fail, skip
    at            TIMESTAMP NOT NULL,
    PRIMARY KEY (repository_id, source, suite, test)
);
CREATE INDEX test_results_by_time ON test_results (repository_id, at);

CREATE TABLE test_sources (
    repository_id BIGINT NOT NULL,
    source        TEXT NOT NULL,      -- a report read (results or none): never read twice
    at            TIMESTAMP NOT NULL,
    PRIMARY KEY (repository_id, source)
);

CREATE TABLE quarantines (
    repository_id BIGINT NOT NULL,
    test          TEXT NOT NULL,      -- suite.name
    state         TEXT NOT NULL,      -- proposed, release-proposed
    issue         INTEGER NOT NULL DEFAULT 0,
    reason        TEXT NOT NULL DEFAULT '',
    events        INTEGER NOT NULL DEFAULT 0, -- the flake events it was proposed on
    updated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (repository_id, test)
);

-- +goose Down
DROP TABLE quarantines;
DROP TABLE test_sources;
DROP TABLE test_results;
