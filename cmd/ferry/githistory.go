package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ferry-ci/ferry/internal/calibrate"
	"github.com/ferry-ci/ferry/internal/git"
)

// gitHistory reads a local repository's first-parent history with line
// counts and weak labels, oldest first (a diff per commit and a blame per
// fix: this takes a while on a long history, so it reports progress).
func gitHistory(dir string, max int) ([]calibrate.Commit, error) {
	repo, err := git.Open(dir)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	head, err := repo.Resolve("HEAD")
	if err != nil {
		return nil, err
	}
	h, err := repo.FirstParent(context.Background(), head, git.HistoryOptions{Max: max, WithLines: true, Progress: func(n int) {
		fmt.Fprintf(os.Stderr, "ferry: read %d commits…\n", n)
	}})
	if err != nil {
		return nil, fmt.Errorf("read history of %s: %w", dir, err)
	}
	if len(h.Skipped) > 0 {
		fmt.Fprintf(os.Stderr, "ferry: skipped %d commits that could not be read (missing objects; a partial clone?): %s\n",
			len(h.Skipped), strings.Join(h.Skipped[:min(5, len(h.Skipped))], " "))
	}
	return h.Commits, nil
}

// recentHistory is the newest max first-parent commits up to base, with
// changed paths only: enough for the history rule, and quick.
func recentHistory(ctx context.Context, repo *git.Repo, base *object.Commit, max int) ([]calibrate.Commit, error) {
	h, err := repo.FirstParent(ctx, base, git.HistoryOptions{Max: max})
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	return h.Commits, nil
}
