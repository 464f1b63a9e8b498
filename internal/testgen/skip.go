package testgen

import (
	"fmt"
	"strings"
)

// Skip is a target a generator passed over, and why.
type Skip struct {
	Target string // Target.Func
	Reason string // what was being done
	Err    error  // nil when the reason says it all
}

// SkippedError lists the targets a generator could not serve. Generate
// returns it together with the candidates it did make: the caller reports
// it (errors.As) and goes on; errors.Is finds the causes (llm.ErrBudget,
// llm.ErrDisabled, llm.ErrInvalid …).
type SkippedError struct {
	Skips []Skip
}

// Error names each skipped target and why.
func (e *SkippedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d target(s) skipped", len(e.Skips))
	for _, s := range e.Skips {
		fmt.Fprintf(&b, "; %s: %s", s.Target, s.Reason)
		if s.Err != nil {
			fmt.Fprintf(&b, ": %v", s.Err)
		}
	}
	return b.String()
}

// Unwrap returns the causes.
func (e *SkippedError) Unwrap() []error {
	var out []error
	for _, s := range e.Skips {
		if s.Err != nil {
			out = append(out, s.Err)
		}
	}
	return out
}

// skipErr is a *SkippedError when there are skips, nil otherwise.
func skipErr(skips []Skip) error {
	if len(skips) == 0 {
		return nil
	}
	return &SkippedError{Skips: skips}
}
