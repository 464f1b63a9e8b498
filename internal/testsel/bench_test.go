package testsel_test

import (
	"testing"

	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/testsel"
)

// BenchmarkSelectGo: the whole of a selection on this repository's own
// tree at HEAD (the largest tree at hand): list the tree from git objects,
// read every go.mod and Go file's imports and embeds, and walk the
// reverse graph from a change to a package most others import.
func BenchmarkSelectGo(b *testing.B) {
	repo, err := git.Open(".")
	if err != nil {
		b.Fatal(err)
	}
	head, err := repo.Resolve("HEAD")
	if err != nil {
		b.Fatal(err)
	}
	changed := []string{"internal/policy/policy.go"}
	var sel testsel.Selection
	for b.Loop() {
		tree, err := repo.Tree(head)
		if err != nil {
			b.Fatal(err)
		}
		sel = testsel.SelectGo(tree, changed)
	}
	b.ReportMetric(float64(sel.Total), "packages")
	b.ReportMetric(float64(len(sel.Targets)), "selected")
}
