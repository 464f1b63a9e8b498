-- Generated-test pull requests: one row per source pull request whose
-- tests ferry proposes, updated in place — the candidates (kept, or
-- removed with why), the round, the commit of ferry's branch CI judges and
-- the state, each recorded before the side effect it leads to (pushing →
-- waiting-ci → green → opened; closing → closed), so a retry never pushes
-- or opens twice.

-- +goose Up
CREATE TABLE generated_tests (
    repository_id BIGINT NOT NULL,
    number        INTEGER NOT NULL,           -- the source pull request
    branch        TEXT NOT NULL,              -- ferry/tests/<number>
    head_ref      TEXT NOT NULL DEFAULT '',   -- the source pull request's branch: ferry's pull request merges into it
    head_sha      TEXT NOT NULL DEFAULT '',   -- the source head the candidates were written for
    round         INTEGER NOT NULL DEFAULT 1,
    candidates    TEXT NOT NULL DEFAULT '[]', -- JSON: name, file, source, origin, target, kept, reason, round
    tip_sha       TEXT NOT NULL DEFAULT '',   -- ferry's branch's commit CI judges
    state         TEXT NOT NULL,              -- pushing, waiting-ci, green, opened, closing, closed, gave-up
    pr_number     INTEGER NOT NULL DEFAULT 0, -- ferry's pull request
    usage         TEXT NOT NULL DEFAULT '{}', -- JSON: model, prompt_tokens, completion_tokens
    note          TEXT NOT NULL DEFAULT '',
    updated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (repository_id, number)
);
CREATE INDEX generated_tests_by_tip ON generated_tests (repository_id, tip_sha);

-- +goose Down
DROP TABLE generated_tests;
