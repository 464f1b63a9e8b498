package render

import (
	"github.com/ferry-ci/ferry/internal/cite"
	"github.com/ferry-ci/ferry/internal/release"
)

// maxSkippedShown bounds the table of commits left out: a monorepo
// component's notes may leave out thousands.
const maxSkippedShown = 50

// ReleaseView is what the release notes (a release pull request's body, a
// GitHub Release) and a changelog section show.
type ReleaseView struct {
	Component, Version, Tag, Previous string
	Bump                              release.Bump
	Sections                          []ReleaseSection
	Entries                           int
	Contributors, FirstTime           []release.Contributor
	Skipped                           []ReleaseSkip // without merge commits, at most maxSkippedShown
	SkippedMore                       int           // left out of Skipped beyond the bound
	Left                              int           // non-merge commits left out: len(Skipped) + SkippedMore
	Merges                            int           // merge commits left out
	// Highlights are a model's, shown atop the release pull request only:
	// never in the changelog or the GitHub Release, which stay ferry's own
	// (nil: none, and nothing is said).
	Highlights *ReleaseHighlights
}

// ReleaseHighlights are what a model picked out of a release.
type ReleaseHighlights struct {
	Model   string
	Items   []Cited
	Skipped string // why the model was not asked ("" it was)
}

// Cited is a model's sentence and the pull requests it is about (checked
// to be among the changes it summarizes).
type Cited = cite.Text

// ReleaseSection is one section of entries.
type ReleaseSection struct {
	Key, Title string
	Entries    []ReleaseEntry
}

// ReleaseEntry is one entry with what the templates show of it.
type ReleaseEntry struct {
	release.Entry
	Short string   // the entry's commit, short
	Check []string // classes that may break users, when nothing says so
}

// ReleaseSkip is a commit left out, and why.
type ReleaseSkip struct{ Short, Why string }

// NewReleaseView prepares notes for display.
func NewReleaseView(n release.Notes) ReleaseView {
	v := ReleaseView{Component: n.Component, Version: n.Version, Tag: n.Tag, Previous: n.Previous, Bump: n.Bump,
		Contributors: n.Contributors}
	for _, s := range n.Sections {
		rs := ReleaseSection{Key: s.Key, Title: s.Title}
		for _, e := range s.Entries {
			re := ReleaseEntry{Entry: e, Short: shortSHA(e.SHA)}
			if !e.Breaking {
				for _, c := range e.Check {
					re.Check = append(re.Check, string(c))
				}
			}
			rs.Entries = append(rs.Entries, re)
		}
		v.Entries += len(rs.Entries)
		v.Sections = append(v.Sections, rs)
	}
	for _, c := range n.Contributors {
		if c.FirstTime {
			v.FirstTime = append(v.FirstTime, c)
		}
	}
	for _, s := range n.Skipped {
		switch {
		case s.Reason == release.SkipMerge:
			v.Merges++
		case len(v.Skipped) == maxSkippedShown:
			v.SkippedMore++
		default:
			v.Skipped = append(v.Skipped, ReleaseSkip{Short: shortSHA(s.SHA), Why: s.Why})
		}
	}
	v.Left = len(v.Skipped) + v.SkippedMore
	return v
}

// ReleaseNotes renders the notes for a release pull request's body or a
// GitHub Release.
func (r *Renderer) ReleaseNotes(v ReleaseView) (string, error) { return r.exec("release.md", v) }

// ReleaseChangelog renders the body of a CHANGELOG.md section (below its
// heading, which release.InsertChangelog writes).
func (r *Renderer) ReleaseChangelog(v ReleaseView) (string, error) {
	return r.exec("release-changelog.md", v)
}
