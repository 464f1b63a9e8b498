package risk

import (
	"fmt"
	"strings"
)

// Concern is one thing a second opinion points at: a changed line.
type Concern struct {
	Path     string `json:"path"`
	Line     int    `json:"line"`
	Severity Level  `json:"severity"`
	Summary  string `json:"summary"`
}

// Opinion is a language model's second look at a change. Only its
// concerns count, and only those the caller checked against the diff:
// its own word on the level is kept for display and never acted on.
type Opinion struct {
	Model    string    `json:"model,omitempty"`
	Said     Level     `json:"said,omitempty"` // the level the model named
	Concerns []Concern `json:"concerns,omitempty"`
	Dropped  int       `json:"dropped,omitempty"` // concerns naming no changed line
	Skipped  string    `json:"skipped,omitempty"` // why there is no opinion (no model, budget spent, invalid answer)
	Tokens   int       `json:"tokens,omitempty"`
	Cached   bool      `json:"cached,omitempty"`
	Raised   Level     `json:"raised,omitempty"` // the level it raised the assessment from, if it did
}

// RuleSecondOpinion names the reason a second opinion adds.
const RuleSecondOpinion = "second-opinion"

// WithOpinion keeps a second opinion on the assessment. It may raise the
// level to its most severe checked concern, never lower it; the score is
// the rules' and stays. A change on the fast path leaves it (the rules
// found only docs or tests), and so does an opinion without concerns.
func (a Assessment) WithOpinion(o Opinion) Assessment {
	top := Low
	for _, c := range o.Concerns {
		top = Max(top, c.Severity)
	}
	if a.FastPath == "" && top.Rank() > a.Level.Rank() {
		o.Raised = a.Level
		a.Level = top
		r := Reason{Rule: RuleSecondOpinion,
			Summary: fmt.Sprintf("a second opinion (%s) raised the level from %s to %s", o.Model, o.Raised, top)}
		for _, c := range o.Concerns {
			if c.Severity == top {
				r.Evidence = append(r.Evidence, Evidence{Path: c.Path, Line: c.Line, Note: clipNote(c.Summary)})
			}
		}
		a.Reasons = append(a.Reasons, r)
	}
	a.Opinion = &o
	return a
}

func clipNote(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 80 {
		return string(r[:79]) + "…"
	}
	return s
}
