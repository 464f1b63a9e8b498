package risk

import (
	"fmt"
	"testing"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/policy"
)

// TestPartialIsNeverTheFastPath: 3,000 listed docs of a pull request whose
// rest was not seen are not "docs-only": the score is not capped to the
// fast path's, and the comment does not say it takes it.
func TestPartialIsNeverTheFastPath(t *testing.T) {
	var files []change.File
	for i := range 3000 {
		files = append(files, file(fmt.Sprintf("docs/page%04d.md", i), 10, ""))
	}
	whole := Assess(Input{Change: change.Change{Files: files}, Policy: policy.Default(), Now: now})
	partial := Assess(Input{Change: change.Change{Files: files, Truncated: true}, Policy: policy.Default(), Now: now})
	if whole.FastPath != "docs-only" {
		t.Fatalf("whole: fast path %q", whole.FastPath)
	}
	if partial.FastPath != "" || !partial.Truncated || partial.Score <= whole.Score {
		t.Fatalf("partial: fast path %q, score %d (whole %d)", partial.FastPath, partial.Score, whole.Score)
	}
}
