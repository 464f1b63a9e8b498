// Package release makes release notes from the commits since the last
// release: one entry per pull request (squash, merge and rebase merges
// alike) or per commit, grouped by Conventional Commits type, by pull
// request labels, or by the classes of the paths changed; reverted pairs
// left out; authors credited; the next semantic version; version files
// edited in place; CHANGELOG.md updated. Pure: no I/O, no clock (the
// release date is a parameter), no logging.
package release

import (
	"encoding/json"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/risk"
)

// NoPR marks a commit whose message names a pull request it did not come
// from: it is its own entry, not grouped under that number.
const NoPR = -1

// Commit is one commit of the range, as the caller read it (git, or
// GitHub's compare and "pull requests associated with a commit" APIs).
type Commit struct {
	SHA     string
	Message string   // the whole message: subject, body, trailers
	Parents []string // parent SHAs, the first parent first
	Author  Author
	Files   []string // paths changed against the first parent
	// PR is the pull request the commit came from, when the caller knows
	// (GitHub does); 0 lets Build read it from the message ("(#123)",
	// "Merge pull request #123") and from the merge that brought it;
	// NoPR: the caller checked the message's claim and it is false.
	PR      int
	PRTitle string   // that pull request's title, when known
	Labels  []string // that pull request's labels, when known
	// Risk is ferry's assessment of the change ("" unknown) and
	// Environments the environments it has reached; both optional.
	Risk         risk.Level
	Environments []string
}

// Author is who wrote a commit: a GitHub login when the caller knows it.
type Author struct{ Login, Name, Email string }

// Input is what Build needs.
type Input struct {
	// Commits are the range: reachable from the release's head and not
	// from the previous release, oldest first (git log --reverse
	// --topo-order; GitHub's compare API lists them so).
	Commits []Commit
	// Previous is the previous release's tag ("" for the first release).
	Previous string
	// PreviousContributors are who contributed before the range: logins,
	// names or e-mail addresses (case-insensitive). Nil means unknown:
	// then no one is called a first-time contributor.
	PreviousContributors []string
	// Component is the component (Config.Components) to make notes for;
	// "" is the whole repository.
	Component string
	Config    Config
}

// Notes are a release's notes.
type Notes struct {
	Component       string `json:"component,omitempty"`
	Previous        string `json:"-"` // the previous tag; "" none
	PreviousVersion string `json:"previous_version,omitempty"`
	Version         string `json:"-"` // the next version; "" when Bump is none
	Tag             string `json:"tag,omitempty"`
	// Bump is what the release does to the version: below 1.0.0 a
	// breaking change may make a minor one (Config.BelowOne). Each
	// entry's Bump is what it asks for.
	Bump         Bump          `json:"bump"`
	Sections     []Section     `json:"sections"`
	Skipped      []Skipped     `json:"skipped"`
	Contributors []Contributor `json:"contributors"`
}

// MarshalJSON writes the absent previous tag and version as null.
func (n Notes) MarshalJSON() ([]byte, error) {
	type plain Notes
	return json.Marshal(struct {
		Previous *string `json:"previous"`
		Version  *string `json:"version"`
		plain
	}{orNull(n.Previous), orNull(n.Version), plain(n)})
}

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Section is one group of entries.
type Section struct {
	Key     string  `json:"key"` // "breaking", "feat", "fix", "deps", "migrations", a label's section, …
	Title   string  `json:"title"`
	Entries []Entry `json:"entries"`
}

// Entry is one pull request, or one commit that came from none.
type Entry struct {
	// SHA is the commit that brought the change to the branch: the
	// squash or merge commit, or the newest of a rebase merge.
	SHA     string   `json:"sha"`
	Commits []string `json:"commits"` // every commit of the entry, oldest first
	PR      int      `json:"-"`       // 0: none
	Type    string   `json:"type,omitempty"`
	Scope   string   `json:"scope,omitempty"`
	Subject string   `json:"subject"`
	// Breaking: "!" in a header, a BREAKING CHANGE footer, or a label.
	Breaking     bool   `json:"breaking"`
	BreakingNote string `json:"breaking_note,omitempty"`
	// Check are the classes (api-contract, migration, config) of the
	// files it touches that may break users though nothing says so.
	Check        []change.Class `json:"check,omitempty"`
	Labels       []string       `json:"labels,omitempty"`
	Authors      []Credit       `json:"authors"`
	Risk         risk.Level     `json:"risk,omitempty"`
	Environments []string       `json:"environments,omitempty"`
	Components   []string       `json:"components,omitempty"`
	// Reverts is what a revert of an earlier release's change reverts.
	Reverts *Reverted `json:"reverts,omitempty"`
	Bump    Bump      `json:"bump"`
}

// MarshalJSON writes an entry without a pull request as "pr": null.
func (e Entry) MarshalJSON() ([]byte, error) {
	type plain Entry
	var pr *int
	if e.PR != 0 {
		pr = &e.PR
	}
	return json.Marshal(struct {
		PR *int `json:"pr"`
		plain
	}{pr, plain(e)})
}

// Reverted names what a revert reverts: a commit (maybe abbreviated),
// a pull request, and the reverted subject as the revert quotes it.
type Reverted struct {
	SHA     string `json:"sha,omitempty"`
	PR      int    `json:"pr,omitempty"`
	Subject string `json:"subject,omitempty"`
}

// Skipped is a commit in no entry, and why.
type Skipped struct {
	SHA    string     `json:"sha"`
	Reason SkipReason `json:"reason"`
	Why    string     `json:"why"` // for people
}

// SkipReason is why a commit is in no entry.
type SkipReason string

// Reasons to skip a commit.
const (
	SkipMerge     SkipReason = "merge"     // a merge commit that is not a pull request's entry
	SkipReverted  SkipReason = "reverted"  // reverted later in the same range
	SkipRevert    SkipReason = "revert"    // reverts a change of the same range
	SkipNoise     SkipReason = "noise"     // configured bot noise
	SkipLabel     SkipReason = "label"     // its pull request has a skip label
	SkipComponent SkipReason = "component" // touches nothing of the component
)

// Credit names an author: by login when one is known, else by name.
type Credit struct {
	Name  string `json:"name"`
	Login bool   `json:"login"` // Name is a GitHub login
}

// Contributor is someone credited in the notes.
type Contributor struct {
	Credit
	FirstTime bool `json:"first_time"`
}
