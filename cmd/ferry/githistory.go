package main

import (
	"fmt"

	"github.com/ferry-ci/ferry/internal/calibrate"
)

// gitHistory reads a local repository's first-parent history (filled in
// with go-git next).
func gitHistory(dir string, max int) ([]calibrate.Commit, error) {
	return nil, fmt.Errorf("--repo: not yet supported; use --commits")
}
