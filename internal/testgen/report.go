package testgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Report is what a run found, kept and dropped. Coverage figures are of
// every changed statement line of the changed functions, before and with
// the kept tests.
type Report struct {
	Base          string          `json:"base"`
	Head          string          `json:"head"`
	Race          bool            `json:"race"` // candidates ran with the race detector
	Targets       []TargetSummary `json:"targets"`
	Candidates    int             `json:"candidates"`
	Kept          []Kept          `json:"kept"`
	Dropped       []Dropped       `json:"dropped"`
	Stages        map[string]int  `json:"stages"` // dropped candidates by stage
	ChangedLines  int             `json:"changed_lines"`
	CoveredBefore int             `json:"changed_lines_covered_before"`
	CoveredAfter  int             `json:"changed_lines_covered_after"`
	Before        float64         `json:"changed_lines_coverage_before"`
	After         float64         `json:"changed_lines_coverage_after"`
	// Skipped are targets the generator proposed nothing for, and why.
	Skipped []SkippedTarget `json:"generator_skipped,omitempty"`
	// LLM is what the model cost, when one generated the candidates.
	LLM *LLMSpend `json:"llm,omitempty"`

	changed  []Target
	baseline Coverage
}

// SkippedTarget is a target the generator proposed nothing for.
type SkippedTarget struct {
	Target string `json:"target"`
	Reason string `json:"reason"`
}

// LLMSpend is what a run's questions to the model cost.
type LLMSpend struct {
	Model            string `json:"model"`
	Calls            int    `json:"calls"`
	Cached           int    `json:"cached"`
	PromptTokens     int    `json:"prompt_tokens"`
	CompletionTokens int    `json:"completion_tokens"`
}

// TargetSummary is a target as the report shows it.
type TargetSummary struct {
	Func      string `json:"func"`
	Package   string `json:"package"` // import path
	File      string `json:"file"`
	Changed   []int  `json:"changed"`
	Uncovered []int  `json:"uncovered"`
}

// Kept is a candidate that passed every stage; Source is its file, to
// apply.
type Kept struct {
	Test          string   `json:"test"`
	File          string   `json:"file"`
	Target        string   `json:"target"`
	Origin        string   `json:"origin"`
	CoveredLines  []int    `json:"covered_lines"` // changed lines it covers that no test did
	MutantsKilled int      `json:"mutants_killed"`
	MutantsTotal  int      `json:"mutants_total"`
	Killed        []string `json:"killed"` // "file:line: < → <="
	Source        string   `json:"source"`
}

// Dropped is a candidate that failed a stage.
type Dropped struct {
	Test   string `json:"test"`
	File   string `json:"file"`
	Target string `json:"target"`
	Origin string `json:"origin"`
	Stage  string `json:"stage"`
	Reason string `json:"reason"`
}

// newReport is the report before any candidate: the targets and the
// coverage the existing tests give.
func newReport(base, head string, f found) Report {
	r := Report{Base: base, Head: head, Targets: []TargetSummary{}, Kept: []Kept{}, Dropped: []Dropped{},
		Stages: map[string]int{}, changed: f.changed, baseline: f.baseline}
	for _, t := range f.targets {
		r.Targets = append(r.Targets, TargetSummary{Func: t.Func, Package: t.ImportPath, File: t.File, Changed: t.Changed, Uncovered: t.Uncovered})
	}
	for _, s := range stageOrder {
		r.Stages[s] = 0
	}
	r.CoveredBefore, r.ChangedLines = changedCounts(f.baseline, f.changed)
	r.Before = ChangedLinesCoverage(f.baseline, f.changed)
	r.CoveredAfter, r.After = r.CoveredBefore, r.Before
	return r
}

// add records the filter's results; the kept candidates' coverage joins
// the existing tests' for the after figures.
func (r *Report) add(results []Result, race bool) {
	r.Race = race
	r.Candidates = len(results)
	after := Coverage{}
	after.Merge(r.baseline)
	for _, res := range results {
		c := res.Candidate
		if !res.Kept() {
			r.Dropped = append(r.Dropped, Dropped{Test: c.Name, File: c.File, Target: c.Target, Origin: c.Origin, Stage: res.Stage, Reason: res.Reason})
			r.Stages[res.Stage]++
			continue
		}
		after.Merge(res.Coverage)
		r.Kept = append(r.Kept, Kept{Test: c.Name, File: c.File, Target: c.Target, Origin: c.Origin, CoveredLines: res.Covered,
			MutantsKilled: len(res.Killed), MutantsTotal: res.MutantsTotal, Killed: res.Killed, Source: c.Source})
	}
	r.CoveredAfter, _ = changedCounts(after, r.changed)
	r.After = ChangedLinesCoverage(after, r.changed)
}

// WriteText writes the report for a person to read.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	race := "off"
	if r.Race {
		race = "on"
	}
	fmt.Fprintf(&b, "ferry testgen %s..%s (race detector %s)\n", short(r.Base), short(r.Head), race)
	fmt.Fprintf(&b, "changed lines covered: %.0f%% (%d/%d) before, %.0f%% (%d/%d) with the kept tests\n",
		100*r.Before, r.CoveredBefore, r.ChangedLines, 100*r.After, r.CoveredAfter, r.ChangedLines)
	if len(r.Targets) == 0 {
		b.WriteString("no changed function has changed lines that no test covers\n")
	}
	for _, t := range r.Targets {
		fmt.Fprintf(&b, "target %s (%s): uncovered lines %s of %d changed\n", t.Func, t.File, lineList(t.Uncovered), len(t.Changed))
	}
	fmt.Fprintf(&b, "candidates: %d, kept %d, dropped %d\n", r.Candidates, len(r.Kept), len(r.Dropped))
	for _, k := range r.Kept {
		fmt.Fprintf(&b, "  kept    %s (%s) for %s, %s: covers lines %s; killed %d of %d mutants\n",
			k.Test, k.File, k.Target, k.Origin, lineList(k.CoveredLines), k.MutantsKilled, k.MutantsTotal)
		for _, m := range k.Killed {
			fmt.Fprintf(&b, "            killed %s\n", m)
		}
	}
	for _, d := range r.Dropped {
		first, _, _ := strings.Cut(d.Reason, "\n")
		fmt.Fprintf(&b, "  dropped %s (%s) for %s, %s: %s: %s\n", d.Test, d.File, d.Target, d.Origin, d.Stage, first)
	}
	for _, sk := range r.Skipped {
		fmt.Fprintf(&b, "  no candidates for %s: %s\n", sk.Target, sk.Reason)
	}
	if l := r.LLM; l != nil {
		fmt.Fprintf(&b, "model %s: %d calls (%d cached), %d prompt + %d completion tokens\n",
			l.Model, l.Calls, l.Cached, l.PromptTokens, l.CompletionTokens)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func lineList(lines []int) string {
	s := make([]string, len(lines))
	for i, l := range lines {
		s[i] = fmt.Sprint(l)
	}
	return strings.Join(s, ", ")
}

// WriteKept writes the kept tests into repo's working tree and returns
// their paths. The tree must be at the report's head, so the tests meet
// the code they were checked against, and no file is overwritten.
func WriteKept(ctx context.Context, repo string, r Report) ([]string, error) {
	head, err := resolveCommit(ctx, repo, "HEAD")
	if err != nil {
		return nil, err
	}
	// Candidate files are relative to the repository's root, which --repo
	// need not be.
	top, err := gitOutput(ctx, repo, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("write tests: %w", err)
	}
	repo = strings.TrimSpace(string(top))
	if head != r.Head {
		return nil, fmt.Errorf("write tests: the working tree is at %s, the tests were checked against %s: check it out first", short(head), short(r.Head))
	}
	seen := map[string]bool{}
	for _, k := range r.Kept {
		if _, err := os.Lstat(filepath.Join(repo, filepath.FromSlash(k.File))); !errors.Is(err, os.ErrNotExist) || seen[k.File] {
			return nil, fmt.Errorf("write tests: %s already exists", k.File)
		}
		seen[k.File] = true
	}
	var written []string
	for _, k := range r.Kept {
		if err := os.WriteFile(filepath.Join(repo, filepath.FromSlash(k.File)), []byte(k.Source), 0o644); err != nil {
			return written, fmt.Errorf("write tests: %w", err)
		}
		written = append(written, k.File)
	}
	return written, nil
}
