package policy

import (
	"errors"
)

// State is what reading a repository's policy found.
type State int

// States.
const (
	Absent  State = iota // no file: the defaults apply
	Invalid              // a file that cannot be used: its problems, with lines
	Valid                // a file, parsed
)

// Loaded is a repository's policy as read for one use. Which ref is read
// is the caller's rule: the base commit for risk (a change cannot loosen
// its own policy), the default branch for commands, environments and
// deploy gates.
type Loaded struct {
	State    State
	Policy   Policy // the defaults when Absent; the zero Policy when Invalid
	Problems []Problem
	Ref      string // the branch or commit it was read at, for display
}

// Load reads a policy file's bytes (found is false when there is no
// file) with the server operator's options.
func Load(data []byte, found bool, ref string, o Options) Loaded {
	if !found {
		return Loaded{State: Absent, Policy: Default(), Ref: ref}
	}
	p, err := ParseWith(data, o)
	var ie *InvalidError
	if errors.As(err, &ie) {
		return Loaded{State: Invalid, Problems: ie.Problems, Ref: ref}
	}
	return Loaded{State: Valid, Policy: p, Ref: ref}
}

// Source names where the policy came from: "defaults" or the file at its
// ref.
func (l Loaded) Source() string {
	if l.State == Absent {
		return "defaults"
	}
	return Path + " at " + l.Ref
}

// Usable reports whether decisions may rest on it: valid, or absent (the
// defaults). An invalid policy allows only read-level commands, no deploys
// and no assessment — the same everywhere.
func (l Loaded) Usable() bool { return l.State != Invalid }
