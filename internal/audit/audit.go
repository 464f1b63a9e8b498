// Package audit is the record of ferry's decisions: what was decided, about
// what, by whom (ferry or a person), from which inputs, with which reasons,
// and — filled in later — whether it was right. Pure: the store keeps the
// rows, append-only.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Kind is what a decision was about.
type Kind string

// Kinds of decisions.
const (
	KindAssessment Kind = "assessment"
	KindCommand    Kind = "command" // a command accepted or refused
	KindApproval   Kind = "approval"
	KindPause      Kind = "pause"
	KindResume     Kind = "resume"
	KindDeploy     Kind = "deploy"         // a deploy asked for, refused, or not started
	KindRollback   Kind = "rollback"       // a rollback, by ferry or on request
	KindHold       Kind = "hold"           // a deploy held for a human instead of rolled back
	KindRelease    Kind = "release"        // a release pull request proposed, or a release tagged and published
	KindPromote    Kind = "promote"        // a production-deploy pull request proposed, shipped, refused or restored
	KindFlake      Kind = "flake"          // a test seen flaky, a quarantine or release proposed
	KindOptimize   Kind = "optimize"       // Dockerfile rewrites proposed, or not proposed again
	KindTests      Kind = "generate-tests" // generated tests pushed for CI to judge
)

// Ferry is the actor of ferry's own decisions.
const Ferry = "ferry"

// Reason is one reason for a decision, with its evidence.
type Reason struct {
	Rule     string   `json:"rule"`
	Weight   float64  `json:"weight,omitempty"`
	Summary  string   `json:"summary"`
	Evidence []string `json:"evidence,omitempty"`
	// Private: for ferry's operator (cluster, namespace, internal errors);
	// `ferry audit` shows it, nothing ferry posts on GitHub does.
	Private bool `json:"private,omitempty"`
}

// Decision is one audited decision.
type Decision struct {
	ID           string    `json:"id"`
	At           time.Time `json:"at"`
	RepositoryID int64     `json:"repository_id"`
	Repository   string    `json:"repository"`
	Subject      string    `json:"subject"` // "#12@abc12345", "push@abc12345", "env:production"
	Kind         Kind      `json:"kind"`
	Actor        string    `json:"actor"`
	InputsDigest string    `json:"inputs_digest"`
	Output       string    `json:"output"`
	Reasons      []Reason  `json:"reasons,omitempty"`
	Outcome      string    `json:"outcome,omitempty"` // later: right, wrong, probable-false-positive …
}

// Filter selects decisions; zero fields select everything.
type Filter struct {
	Repository string // owner/name
	Number     int
	Since      time.Time
	Limit      int // default 1000
}

// Digest is a stable fingerprint of a decision's inputs (any JSON-able
// value): the same inputs give the same digest.
func Digest(inputs any) string {
	b, err := json.Marshal(inputs)
	if err != nil {
		b = []byte(fmt.Sprint(inputs))
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// PullRequestSubject names a pull request at a commit.
func PullRequestSubject(number int, sha string) string {
	return fmt.Sprintf("#%d@%s", number, short(sha))
}

// PushSubject names a push's commit.
func PushSubject(sha string) string { return "push@" + short(sha) }

// Short is a commit's first 8 characters.
func Short(sha string) string { return short(sha) }

func short(sha string) string {
	if len(sha) > 8 {
		return sha[:8]
	}
	return sha
}

// Text renders a decision as one line for `ferry audit`.
func (d Decision) Text() string {
	out := fmt.Sprintf("%s  %-26s  %-10s  %-24s  %-18s  %s", d.At.UTC().Format("2006-01-02 15:04:05"), d.ID, d.Kind,
		d.Repository+" "+d.Subject, d.Actor, d.Output)
	if d.Outcome != "" {
		out += "  [" + d.Outcome + "]"
	}
	return out
}
