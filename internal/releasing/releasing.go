// Package releasing is the vocabulary of a release as ferry keeps it: the
// standing release pull request of a component, and how far its release
// has come once merged. The release agent decides; the store keeps these.
package releasing

import (
	"errors"
	"time"
)

// State is where a release pull request is.
type State string

// States, in order: a merged one moves (merged →) tagging → tagged → released, each
// recorded before the next action, so a retry does nothing twice.
const (
	Open     State = "open"     // proposed, waiting for a human to merge it
	Closed   State = "closed"   // closed without merging: its version is skipped until the next change
	Merged   State = "merged"   // merged while the repository was paused: released on resume
	Tagging  State = "tagging"  // merged; the tag is being created
	Tagged   State = "tagged"   // the tag exists; the GitHub Release is being created
	Released State = "released" // done
	// Stuck: merged, but the tag exists and names another commit. ferry
	// never moves a tag; a person decides (said on the pull request).
	Stuck State = "stuck"
)

// Finishing reports whether a merged release is still to be tagged or
// published.
func (s State) Finishing() bool { return s == Merged || s == Tagging || s == Tagged }

// PR is a release pull request.
type PR struct {
	RepositoryID int64
	Component    string // "" for the whole repository
	Number       int
	Version      string
	Tag          string
	HeadSHA      string // the default branch's tip it was built from
	Notes        string // Markdown: the GitHub Release's body
	State        State
	TagSHA       string // the commit the tag names: the merge commit, recorded when merged
	ReleaseID    int64  // the GitHub Release, once created
	UpdatedAt    time.Time
}

// ErrNotFound is a release pull request that is not there.
var ErrNotFound = errors.New("release pull request not found")
