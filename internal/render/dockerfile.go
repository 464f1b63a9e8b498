package render

import (
	"github.com/ferry-ci/ferry/internal/dockerfile"
)

// maxSuggestionsShown bounds the suggestions listed per Dockerfile.
const maxSuggestionsShown = 30

// DockerfileView is the body of ferry's Dockerfile optimization pull
// request: per file, what was rewritten and why, the checks it passed, and
// what ferry suggests without editing.
type DockerfileView struct {
	Files  []DockerfileFile
	Digest string // of the rewrites: a closed pull request with it is not reopened
}

// DockerfileFile is one Dockerfile's part.
type DockerfileFile struct {
	Path          string
	Before, After int // findings
	Checks        dockerfile.Checks
	Applied       []DockerfileItem
	Suggestions   []DockerfileItem
	Dropped       []DockerfileItem
	More          int // suggestions left out
}

// DockerfileItem is one finding with its rule's words.
type DockerfileItem struct {
	dockerfile.Finding
	Rule dockerfile.Rule
	Why  string // for a dropped fix: the check that refused it
}

// NewDockerfileFile prepares one file's rewrite for display.
func NewDockerfileFile(path string, before int, rw dockerfile.Rewrite) DockerfileFile {
	f := DockerfileFile{Path: path, Before: before, After: len(rw.Suggestions), Checks: rw.Checks}
	item := func(fd dockerfile.Finding) DockerfileItem {
		r, _ := dockerfile.RuleByID(fd.Rule)
		fd.Message = clip(fd.Message, 200)
		return DockerfileItem{Finding: fd, Rule: r}
	}
	for _, fd := range rw.Applied {
		f.Applied = append(f.Applied, item(fd))
	}
	for _, d := range rw.Dropped {
		it := item(d.Finding)
		it.Why = clip(d.Why, 300)
		f.Dropped = append(f.Dropped, it)
	}
	for i, fd := range rw.Suggestions {
		if i == maxSuggestionsShown {
			f.More = len(rw.Suggestions) - i
			break
		}
		f.Suggestions = append(f.Suggestions, item(fd))
	}
	return f
}

// Dockerfile renders the optimization pull request's body (ferry's part).
func (r *Renderer) Dockerfile(v DockerfileView) (string, error) { return r.exec("dockerfile.md", v) }

// DockerfileNote is a finding on a line a pull request touched, for its
// comment and check run.
type DockerfileNote struct {
	Path       string `json:"path"`
	Line       int    `json:"line"`
	Rule       string `json:"rule"`
	Title      string `json:"title"`
	Refs       string `json:"refs,omitempty"`
	Message    string `json:"message"`
	Why        string `json:"why"`
	Fixable    bool   `json:"fixable"`
	Suggestion string `json:"suggestion,omitempty"`
}

// NewDockerfileNote names a finding's rule for people.
func NewDockerfileNote(path string, fd dockerfile.Finding) DockerfileNote {
	r, _ := dockerfile.RuleByID(fd.Rule)
	return DockerfileNote{Path: path, Line: fd.Line, Rule: fd.Rule, Title: r.Title, Refs: r.Refs, Message: clip(fd.Message, 200),
		Why: r.Why, Fixable: fd.Fixable, Suggestion: clip(fd.Suggestion, 500)}
}
