package dockerfile

import (
	"context"
	"fmt"
	"strings"
)

// Rewrite is a Dockerfile with its proven automatic fixes applied.
type Rewrite struct {
	Text []byte `json:"-"`
	// Applied: the findings rewritten, at their lines in the original.
	Applied []Finding `json:"applied"`
	// Dropped: fixes a check refused; they are suggestions now.
	Dropped []Dropped `json:"dropped,omitempty"`
	// Suggestions: findings ferry does not rewrite, with exact text where it has one.
	Suggestions []Finding `json:"suggestions"`
	Checks      Checks    `json:"checks"`
}

// Dropped is a fix that failed a check.
type Dropped struct {
	Finding
	Why string `json:"why"`
}

// Changed reports whether anything was rewritten.
func (r Rewrite) Changed() bool { return len(r.Applied) > 0 }

// maxFixes bounds the loop (each fix removes a finding, so it ends
// anyway); maxInstructions bounds the files ferry rewrites at all: each
// fix converts the whole file again.
const (
	maxFixes        = 40
	maxInstructions = 400
	maxTargets      = 16 // named stages: each fix converts every one
)

// Fix applies the automatic fixes one at a time, each proven by the four
// checks against the state before it (so the whole is proven against the
// original); a fix failing a check is dropped and kept as a suggestion.
func Fix(ctx context.Context, f *File, o Options) (Rewrite, error) {
	before := Analyze(f, o)
	if n := f.instructions(); n > maxInstructions || len(f.Stages) > maxTargets {
		why := fmt.Sprintf("%d instructions in %d stages: ferry rewrites files of up to %d in %d", n, len(f.Stages), maxInstructions, maxTargets)
		return Rewrite{Text: f.Src, Suggestions: before, Checks: Checks{Problems: []string{why}}}, nil
	}
	want, err := Contracts(ctx, f)
	if err != nil {
		rw := Rewrite{Text: f.Src, Suggestions: before}
		for _, fd := range before {
			if fd.Fixable {
				rw.Dropped = append(rw.Dropped, Dropped{fd, "the original does not convert to LLB: " + err.Error()})
			}
		}
		rw.Checks.Problems = []string{"the original does not convert to LLB: " + err.Error()}
		return rw, nil
	}
	o.unreadBefore = unreadRuns(f)
	cur, origin := f, identity(len(f.Lines))
	tried := map[string]bool{}
	var rw Rewrite
	for n := 0; n < maxFixes; n++ {
		if err := ctx.Err(); err != nil {
			return Rewrite{}, fmt.Errorf("dockerfile: %w", err)
		}
		findings := Analyze(cur, o)
		next, ok := nextFix(cur, findings, tried)
		if !ok {
			break
		}
		text, lines := apply(cur, next.fix, origin)
		checks, nf := Verify(ctx, text, want, len(findings), o)
		orig := next
		orig.Line, orig.fix = origin[next.Line-1], nil
		if !checks.OK() {
			rw.Dropped = append(rw.Dropped, Dropped{orig, strings.Join(checks.Problems, "; ")})
			continue
		}
		rw.Applied = append(rw.Applied, orig)
		cur, origin = nf, lines
	}
	rw.Text = cur.Src
	rw.Checks, _ = Verify(ctx, cur.Src, want, len(before), o)
	rw.Suggestions = suggestions(Analyze(cur, o), origin)
	return rw, nil
}

func nextFix(f *File, findings []Finding, tried map[string]bool) (Finding, bool) {
	for _, fd := range findings {
		if !fd.Fixable {
			continue
		}
		key := fd.Rule + "\x00" + f.Text(fd.fix.From, fd.fix.To)
		if tried[key] {
			continue
		}
		tried[key] = true
		return fd, true
	}
	return Finding{}, false
}

// suggestions are the findings left, at their original lines (0 for a line
// ferry wrote).
func suggestions(fs []Finding, origin []int) []Finding {
	out := []Finding{}
	for _, fd := range fs {
		fd.Line, fd.Fixable, fd.fix = origin[fd.Line-1], false, nil
		out = append(out, fd)
	}
	return out
}

func identity(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// apply replaces an edit's lines; origin maps each line of the result to
// the original line it came from.
func apply(f *File, e *edit, origin []int) ([]byte, []int) {
	repl := strings.Split(e.Text, "\n")
	lines := append(append(append([]string{}, f.Lines[:e.From-1]...), repl...), f.Lines[e.To:]...)
	orig := append([]int{}, origin[:e.From-1]...)
	for i := range repl {
		from := e.From + i
		if e.Origin != nil {
			from = e.Origin[i]
		} else if from > e.To {
			from = 0
		}
		if from > 0 {
			orig = append(orig, origin[from-1])
		} else {
			orig = append(orig, 0)
		}
	}
	orig = append(orig, origin[e.To:]...)
	return []byte(strings.Join(lines, "\n")), orig
}
