-- The production-deploy pull requests: one row per pull request ferry
-- opened to ship an environment, with the commit it ships, the deploy it
-- promised, and how far it has come — each state recorded before the
-- action it leads to (merged → deploying → deployed, or restoring →
-- restored), so a retry never deploys or moves a branch twice.

-- +goose Up
CREATE TABLE promotions (
    repository_id BIGINT NOT NULL,
    environment   TEXT NOT NULL,
    number        INTEGER NOT NULL,          -- the pull request
    candidate_sha TEXT NOT NULL,             -- the commit it ships
    head_sha      TEXT NOT NULL DEFAULT '',  -- the pull request's head: the candidate, or ferry's commit of its content
    base_branch   TEXT NOT NULL DEFAULT '',  -- the branch it merges into: the only one ferry moves back
    running_sha   TEXT NOT NULL DEFAULT '',  -- what the environment ran when proposed
    state         TEXT NOT NULL,             -- open, closed, merged, deploying, deployed, restoring, restored, shipped
    plan          TEXT NOT NULL DEFAULT '{}',-- JSON: level, strategy, watch, need_human
    merged_by     TEXT NOT NULL DEFAULT '',
    deploy_id     TEXT NOT NULL DEFAULT '',
    updated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (repository_id, environment, number)
);
CREATE INDEX promotions_by_number ON promotions (repository_id, number);

-- +goose Down
DROP TABLE promotions;
