package main

import (
	"fmt"
	"os"

	"github.com/ferry-ci/ferry/internal/calibrate"
	"github.com/ferry-ci/ferry/internal/git"
)

// gitHistory reads a local repository's first-parent history with line
// counts, oldest first (a diff per commit: this takes a while on a long
// history, so it reports progress).
func gitHistory(dir string, max int) ([]calibrate.Commit, error) {
	repo, err := git.Open(dir)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	head, err := repo.Resolve("HEAD")
	if err != nil {
		return nil, err
	}
	return repo.FirstParent(head, max, true, func(n int) {
		fmt.Fprintf(os.Stderr, "ferry: read %d commits…\n", n)
	})
}
