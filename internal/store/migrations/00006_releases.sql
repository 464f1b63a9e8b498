-- The release agent's pull requests: one row per release pull request of a
-- component, with what it proposed and how far its release has come, each
-- step recorded before it acts (tagging → tagged → released) so a retry
-- never tags or releases twice.

-- +goose Up
CREATE TABLE release_prs (
    repository_id BIGINT NOT NULL,
    component     TEXT NOT NULL,             -- "" for the whole repository
    number        INTEGER NOT NULL,          -- the release pull request
    version       TEXT NOT NULL,
    tag           TEXT NOT NULL,
    head_sha      TEXT NOT NULL,             -- the default branch's tip it was built from
    notes         TEXT NOT NULL DEFAULT '',  -- Markdown: the GitHub Release's body
    state         TEXT NOT NULL,             -- open, closed, tagging, tagged, released
    tag_sha       TEXT NOT NULL DEFAULT '',
    release_id    BIGINT NOT NULL DEFAULT 0,
    updated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (repository_id, component, number)
);

-- +goose Down
DROP TABLE release_prs;
