package render

import (
	"regexp"
	"strings"

	"github.com/ferry-ci/ferry/internal/gentest"
)

// Bounds on what the generated-tests body lists.
const (
	maxGeneratedShown = 20
	maxEvidenceShown  = 30
)

// GeneratedTestsView is the body of ferry's generated-test pull request:
// the tests it adds and what each tests, the evidence CI gave on its final
// commit, the candidates removed and why, and what generating them cost.
type GeneratedTestsView struct {
	Source   int    // the source pull request
	HeadSHA  string // its head the tests were written for
	Tip      string // the commit CI passed
	Round    int
	Kept     []GeneratedTest
	Removed  []GeneratedTest
	Evidence []GeneratedCheck
	More     int      // checks left out
	Coverage []string // "package: 81.2%", as CI's output reported it
	Usage    gentest.Usage
}

// GeneratedTest is one candidate as shown.
type GeneratedTest struct {
	Name, File, Target, Origin, Reason string
	Round                              int
}

// GeneratedCheck is one check run on the final commit.
type GeneratedCheck struct {
	Name, Conclusion string
	URL              string // "" unless it is a page of this repository's on GitHub
}

// safeURL is what a link ferry writes may hold: nothing that could end
// the link or start markup.
var safeURL = regexp.MustCompile(`^https://[A-Za-z0-9.:-]+/[A-Za-z0-9/._~%?=&+-]*$`)

// NewGeneratedTestsView prepares a record and the checks on its final
// commit for display; repoURL is the repository's web address: a check's
// link is kept only when it points inside it.
func NewGeneratedTestsView(r gentest.Record, checks []gentest.Check, repoURL string) GeneratedTestsView {
	v := GeneratedTestsView{Source: r.Number, HeadSHA: r.HeadSHA, Tip: r.Tip, Round: r.Round, Usage: r.Usage, Coverage: gentest.Coverage(checks)}
	if len(v.Coverage) > maxGeneratedShown {
		v.Coverage = v.Coverage[:maxGeneratedShown]
	}
	for _, c := range r.Candidates {
		t := GeneratedTest{Name: clip(c.Name, 120), File: clip(c.File, 200), Target: clip(c.Target, 120), Origin: clip(c.Origin, 80),
			Reason: clip(c.Reason, 300), Round: c.Round}
		switch {
		case c.Kept && len(v.Kept) < maxGeneratedShown:
			v.Kept = append(v.Kept, t)
		case !c.Kept && len(v.Removed) < maxGeneratedShown:
			v.Removed = append(v.Removed, t)
		}
	}
	prefix := strings.TrimSuffix(repoURL, "/") + "/"
	for i, c := range checks {
		if i == maxEvidenceShown {
			v.More = len(checks) - i
			break
		}
		ch := GeneratedCheck{Name: clip(c.Name, 120), Conclusion: c.Conclusion}
		if safeURL.MatchString(c.URL) && safeURL.MatchString(prefix) && strings.HasPrefix(c.URL, prefix) {
			ch.URL = c.URL
		}
		v.Evidence = append(v.Evidence, ch)
	}
	return v
}

// GeneratedTests renders the generated-test pull request's body (ferry's
// part).
func (r *Renderer) GeneratedTests(v GeneratedTestsView) (string, error) {
	return r.exec("generated-tests.md", v)
}
