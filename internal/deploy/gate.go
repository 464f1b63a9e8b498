package deploy

import "time"

// GateState is how far ferry's answer to a protection rule request is.
type GateState string

// Gate states, in order; the answer is recorded (answering) before it is
// sent, so a retry sends the same answer and decides nothing again.
const (
	GateWaiting   GateState = "waiting"   // decided "not yet"; looked at again
	GateAnswering GateState = "answering" // the answer is decided, being sent
	GateAnswered  GateState = "answered"  // GitHub has it
)

// Gate is GitHub asking ferry, as a custom deployment protection rule,
// whether a deployment it did not make (GitHub Actions, say) may go to an
// environment.
type Gate struct {
	ID             string // the delivery that asked
	InstallationID int64
	RepositoryID   int64
	Repository     string // owner/name
	Environment    string
	SHA, Ref       string
	RunID          int64 // the workflow run waiting
	Number         int   // the pull request the commit is the head of, 0 none known
	// Request is what ferry fixed when it was asked (JSON): the
	// environment's policy, why a human must approve, the checks that must
	// pass — read once, from the default branch.
	Request    []byte
	State      GateState
	Answer     string // approved, rejected (once answering)
	Comment    string // the one line GitHub shows with it
	Note       string // the last "not yet" said on the run
	CreatedAt  time.Time
	AnsweredAt time.Time
}
