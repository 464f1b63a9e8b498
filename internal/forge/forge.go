// Package forge is the vocabulary of what ferry reads from and writes to
// the code forge (GitHub) as its agents see it: a pull request, a check run
// to publish with its annotations and buttons, a deployment and its
// statuses. The github adapter maps them to and from GitHub's API.
package forge

import (
	"errors"
	"strings"
	"time"
)

// PullRequest is what ferry needs to know about a pull request to act on
// a command about it.
type PullRequest struct {
	Number    int
	Title     string
	State     string // open, closed
	Merged    bool
	Author    string
	HeadSHA   string
	HeadRef   string
	HeadRepo  string // owner/name; differs from the base repository for a fork
	BaseRef   string
	BaseSHA   string
	UpdatedAt time.Time
	Labels    []string
	CloneURL  string
	// MergeCommitSHA is, once merged, the commit the merge made on the
	// base branch (the merge, squash or last rebased commit).
	MergeCommitSHA string
	Body           string // where the source gives it (lists do)
}

// CheckRun is what ferry shows in a check run.
type CheckRun struct {
	Name        string
	HeadSHA     string
	Status      string // queued, in_progress, completed
	Conclusion  string // with completed: success, failure, neutral, action_required, …
	ExternalID  string
	Title       string
	Summary     string
	Text        string
	Annotations []Annotation
	Buttons     []Button // at most 3
}

// Annotation marks lines of a file in a check run.
type Annotation struct {
	Path               string
	StartLine, EndLine int
	Level              string // notice, warning, failure
	Title, Message     string
}

// Button is a check-run button ("requested action"); pressing it sends
// check_run requested_action with the identifier.
type Button struct {
	Label, Description, Identifier string
}

// Deployment asks GitHub to record a deployment.
type Deployment struct {
	Ref         string // branch or SHA
	Environment string
	Description string
	Task        string // default "deploy"
	Payload     any
	Production  bool
}

// DeploymentStatus is one state of a deployment.
type DeploymentStatus struct {
	State          string // queued, in_progress, success, failure, error, inactive
	Description    string
	EnvironmentURL string
	LogURL         string
}

// Proposal is a change ferry offers as its own pull request (an optimized
// Dockerfile, release notes, a production deploy).
type Proposal struct {
	Branch  string            // ferry's branch, e.g. ferry/release
	Base    string            // the branch to merge into
	Message string            // commit message
	Title   string            // pull request title
	Body    string            // pull request body; on an update only the part between BodyStart and BodyEnd is ferry's
	Files   map[string]string // path → new content
	// Commits, when set, replace Message and Files: one commit each, in
	// order (one per Dockerfile, say, so each can be reverted alone).
	Commits []ProposalCommit
}

// ProposalCommit is one commit of a proposal.
type ProposalCommit struct {
	Message string
	Files   map[string]string
}

// BodyStart and BodyEnd mark ferry's part of a proposal's body; what a
// person writes around it is kept when ferry updates the pull request.
const (
	BodyStart = "<!-- ferry:generated -->"
	BodyEnd   = "<!-- ferry:end -->"
)

// MergeBody is the body of an updated proposal: old with ferry's part
// replaced by the one in generated. Where either has no marked part,
// generated replaces old whole.
func MergeBody(old, generated string) string {
	oi, oj := strings.Index(old, BodyStart), strings.Index(old, BodyEnd)
	gi, gj := strings.Index(generated, BodyStart), strings.Index(generated, BodyEnd)
	if oi < 0 || oj < oi || gi < 0 || gj < gi {
		return generated
	}
	return old[:oi] + generated[gi:gj] + old[oj:]
}

// Release is a GitHub Release to publish for a tag.
type Release struct {
	Tag        string
	Name       string
	Body       string // Markdown notes
	Prerelease bool
}

// ErrTagElsewhere is a tag that exists and names another commit: ferry
// never moves a tag.
var ErrTagElsewhere = errors.New("the tag exists and names another commit")

// ErrGateClosed is a protection rule answer GitHub refuses because the
// run has its answer already (or no longer waits).
var ErrGateClosed = errors.New("the run no longer waits for this answer")

// Promotion is a production-deploy pull request as proposed: ferry's
// branch pointed at the candidate commit itself (no commit of ferry's, so
// the pull request's diff is what goes out and its checks are the
// candidate's), into the branch that records what the environment runs.
type Promotion struct {
	Branch string // ferry's branch, e.g. ferry/promote/production
	SHA    string // the candidate
	Base   string // e.g. deploy/production
	BaseAt string // where Base is created when absent: what the environment runs
	Title  string
	Body   string // on an update only the part between BodyStart and BodyEnd is ferry's
	// OnTop: Base already holds the candidate's history but not its
	// content (a failed deploy moved it back), so the candidate alone would
	// show no diff: ferry's branch gets a commit with the candidate's
	// content on top of Base's tip (parents: the tip, the candidate).
	OnTop bool
}

// Artifact is a file a workflow run uploaded.
type Artifact struct {
	ID      int64
	Name    string
	Size    int64
	Expired bool
}
