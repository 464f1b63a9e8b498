// Package testgen proposes Go tests for changed code and keeps only those
// that earn their place: a candidate must compile, pass three runs in a
// row (with the race detector where the toolchain has it), raise the
// coverage of the changed lines, and fail on at least one mutant of those
// lines. Candidates come from a model (through llm) or, without one, from
// the code itself (characterization tests and fuzz targets). It runs the
// repository's code, so it runs only where the user chose to: a local
// clone on their machine, never ferry's server.
package testgen

import "context"

// Target is a changed function whose changed lines no test covers.
type Target struct {
	Dir        string // package directory, relative to the repository root ("." for the root)
	ImportPath string
	Package    string // package name
	Func       string // "Name", or "Recv.Name" for a method
	File       string // file of the function, relative to the repository root
	Signature  string // as written, e.g. "func Clamp(v, lo, hi int) int"
	Source     string // the function's source at head
	Changed    []int  // changed lines of the function
	Uncovered  []int  // changed lines no existing test covers
	Style      string // an excerpt of the package's existing tests (helpers, table tests), if any
}

// Candidate is one proposed test: one test (or fuzz) function in its own file.
type Candidate struct {
	Name   string // the test function, e.g. "TestClamp_Bounds"
	File   string // the test file, relative to the repository root (…_test.go in the target's package)
	Source string // the whole file
	Origin string // "llm <model>", "characterization" or "fuzz"
	Target string // the Target.Func it is for
}

// Generator proposes candidates for targets in the repository at dir.
type Generator interface {
	Generate(ctx context.Context, dir string, targets []Target) ([]Candidate, error)
}
