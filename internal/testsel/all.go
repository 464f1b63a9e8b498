package testsel

import (
	"path"
	"sort"
	"strings"

	"github.com/ferry-ci/ferry/internal/policy"
)

// Mapping is a policy's `tests.map` rule: changed files matching Glob
// select Targets (names a workflow knows: jobs, make targets, commands).
type Mapping struct {
	Glob    string
	Targets []string
}

// Mappings are a policy's rules as the selection takes them.
func Mappings(rules []policy.TestMapping) []Mapping {
	out := make([]Mapping, len(rules))
	for i, r := range rules {
		out[i] = Mapping{Glob: r.Glob, Targets: r.Targets}
	}
	return out
}

// Select selects a change's tests across what ferry reads: Go packages
// exactly, Python and JavaScript/TypeScript tests at file level, and the
// policy's mappings for anything else. A changed file none of them
// accounts for — outside every Go package, no language's source or
// configuration, matched by no mapping — selects everything, said so.
func Select(head Tree, changed []string, maps []Mapping) Selection {
	// ferry's own files change no test: the policy and the quarantine
	// list a selection uses are the base's.
	claimed := map[string]bool{policy.Path: true, QuarantinePath: true}
	var extra []Target
	var why []string
	total := 0
	for _, l := range []fileLang{python, javascript} {
		targets, tests, lwhy, cl := selectFiles(l, head, changed)
		total += tests
		why = append(why, lwhy...)
		for f := range cl {
			claimed[f] = true
		}
		for _, t := range sortedTargets(targets) {
			t.Kind = l.name
			extra = append(extra, t)
		}
	}
	mapped := map[string]map[string]bool{}
	for _, f := range changed {
		for _, m := range maps {
			if globMatch(m.Glob, f) {
				claimed[f] = true
				for _, target := range m.Targets {
					if mapped[target] == nil {
						mapped[target] = map[string]bool{}
					}
					mapped[target][f] = true
				}
			}
		}
	}
	for _, t := range sortedTargets(mapped) {
		t.Kind = "policy"
		extra = append(extra, t)
	}
	sel := selectGo(head, changed, claimed)
	for i := range sel.Targets {
		sel.Targets[i].Kind = "go"
	}
	sel.Total += total
	if sel.All || len(why) > 0 {
		sel.All, sel.Why = true, append(why, sel.Why...)
	}
	sel.Targets = append(sel.Targets, extra...)
	return sel
}

// globMatch matches a slash-separated path against a glob where ** spans
// directories.
func globMatch(glob, p string) bool {
	if !strings.Contains(glob, "**") {
		ok, _ := path.Match(glob, p)
		return ok
	}
	prefix, suffix, _ := strings.Cut(glob, "**")
	if !strings.HasPrefix(p, prefix) {
		return false
	}
	rest := strings.TrimPrefix(p, prefix)
	suffix = strings.TrimPrefix(suffix, "/")
	if suffix == "" {
		return true
	}
	parts := strings.Split(rest, "/")
	for i := range parts {
		if globMatch(suffix, strings.Join(parts[i:], "/")) {
			return true
		}
	}
	return false
}

// Names are the targets' names of one kind, in order.
func (s Selection) Names(kind string) []string {
	var out []string
	for _, t := range s.Targets {
		if t.Kind == kind {
			out = append(out, t.Name)
		}
	}
	sort.Strings(out)
	return out
}

// Plan is a change's selection with the quarantined tests: the list on
// the base (a change cannot quarantine the test it breaks). A base whose
// list is broken quarantines nothing; problem says why ("" none).
func Plan(head, base Tree, changed []string, maps []Mapping) (sel Selection, problem error) {
	sel = Select(head, changed, maps)
	sel.Quarantined = []Quarantined{}
	data, err := base.Read(QuarantinePath)
	if err != nil {
		return sel, nil // no list
	}
	q, err := ParseQuarantine(data)
	if err != nil {
		return sel, err
	}
	sel.Quarantined = q
	return sel, nil
}
