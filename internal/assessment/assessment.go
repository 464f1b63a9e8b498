// Package assessment is the vocabulary of the risk agent's records: an
// assessment as stored, with what ferry published for it, and the path
// events pushes teach (history). The store keeps them.
package assessment

import (
	"errors"
	"time"

	"github.com/ferry-ci/ferry/internal/risk"
)

// Kind is what was assessed.
type Kind string

// Kinds.
const (
	PullRequest Kind = "pull_request"
	Push        Kind = "push"
)

// Record is a stored risk assessment and what ferry published for it.
type Record struct {
	ID               string // the delivery (or command) that asked for it
	RepositoryID     int64
	Repository       string
	Number           int // 0 for a push
	Kind             Kind
	BaseSHA, HeadSHA string
	Level            risk.Level // low, medium, high, or LevelInvalidPolicy
	Score            int
	Rules            []string
	Result           []byte // JSON: assessment and route
	PolicySource     string
	EventAt          time.Time
	CreatedAt        time.Time
	CheckRunStarted  bool  // a check run may have been created (see FindCheckRun)
	CheckRunID       int64 // 0 until known
	CommentID        int64
	Published        bool
}

// LevelInvalidPolicy marks an assessment that could not be made because
// the policy file is invalid.
const LevelInvalidPolicy risk.Level = "invalid-policy"

// PathEvent is a path changed by a commit on the default branch; an
// incident when the commit reverted (or rolled back) an earlier one.
type PathEvent struct {
	SHA      string
	Path     string
	Incident bool
	At       time.Time
}

// ErrNotFound is an assessment that is not there.
var ErrNotFound = errors.New("assessment not found")

// Model is a repository's stored risk model: the learner's state, and the
// version each save advances (two jobs never overwrite each other's
// learning: a save from a stale load fails with ErrStaleModel).
type Model struct {
	State   []byte
	Version int64 // 0: none stored yet
	Changes int   // changes learned from
	HeadSHA string
}

// ErrStaleModel: the model changed since it was loaded; load it again.
var ErrStaleModel = errors.New("risk model changed since it was loaded")
