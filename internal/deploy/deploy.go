// Package deploy is the vocabulary of a deploy as ferry keeps it: the
// deploy (or rollback) of a commit to an environment, its status, why it
// waits and how it ended (typed, never read back out of a message), and its
// steps as recorded. The deploy agent decides; the store keeps these.
package deploy

import (
	"time"

	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/rollout"
)

// Status is where a deploy is in its life.
type Status string

// Statuses.
const (
	Queued     Status = "queued"
	Running    Status = "running"
	Succeeded  Status = "succeeded"
	Failed     Status = "failed"
	Superseded Status = "superseded"
)

// Kind says whether a deploy brings a commit or restores what ran before.
type Kind string

// Kinds.
const (
	KindDeploy   Kind = "deploy"
	KindRollback Kind = "rollback"
)

// HoldCause is why a running or queued deploy waits.
type HoldCause string

// Hold causes ("" = not held).
const (
	HoldNone       HoldCause = ""
	HoldQueue      HoldCause = "queue"      // another deploy to the environment goes first
	HoldPaused     HoldCause = "paused"     // a person paused ferry
	HoldFrozen     HoldCause = "frozen"     // a freeze window of the policy
	HoldAnalysis   HoldCause = "analysis"   // no metrics, or recommend-only: a human decides
	HoldMigrations HoldCause = "migrations" // the metrics say roll back, but the deploy adds migrations
)

// EndCause is how a deploy ended.
type EndCause string

// End causes ("" = not ended).
const (
	EndNone              EndCause = ""
	EndCompleted         EndCause = "completed"
	EndRolledBackAuto    EndCause = "rolled-back-auto"    // the metrics condemned it
	EndRolledBackRequest EndCause = "rolled-back-request" // a person asked
	EndStepFailed        EndCause = "step-failed"         // a step did not settle (deadline, bad pods)
	EndGate              EndCause = "gate"                // refused when it was to start (approval, checks, allow rules)
	EndGaveUp            EndCause = "gave-up"             // ferry could not finish it
	EndNothingToRollBack EndCause = "nothing-to-roll-back"
)

// RolledBack reports whether the deploy ended rolled back.
func (c EndCause) RolledBack() bool { return c == EndRolledBackAuto || c == EndRolledBackRequest }

// Deploy is one deploy (or rollback) of a commit to an environment.
type Deploy struct {
	ID                 string
	RepositoryID       int64
	Repository         string
	InstallationID     int64
	Environment        string
	Kind               Kind
	SHA, Ref           string
	Number             int
	Actor              string
	Strategy           policy.Strategy
	Reasons            string
	Status             Status
	Step               int
	Env                []byte // the environment as the request saw it
	Plan               []byte
	KnownGood          []byte
	Message            string
	GitHubDeploymentID int64
	RollbackBy         string // a person asked to roll this deploy back
	HoldCause          HoldCause
	// NeedsForce: a migration hold; only a forced rollback lifts it, and
	// no later hold clears it.
	NeedsForce bool
	EndCause   EndCause
	Approval   []byte // JSON: why a human must approve; empty when no one needs to
	CreatedAt  time.Time
	StartedAt  time.Time // zero until started
	FinishedAt time.Time // zero until finished
}

// Terminal reports whether the deploy has ended.
func (d Deploy) Terminal() bool {
	return d.Status == Succeeded || d.Status == Failed || d.Status == Superseded
}

// StepRecord is a step of a deploy's plan as recorded: written before its
// action is sent, marked done when it settled.
type StepRecord struct {
	N         int
	Kind      rollout.StepKind
	Note      string
	AppliedAt time.Time
	DoneAt    time.Time
	Applies   int // how often its action was sent (1 unless a crash came between)
}
