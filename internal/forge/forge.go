// Package forge is the vocabulary of what ferry reads from and writes to
// the code forge (GitHub) as its agents see it: a pull request, a check run
// to publish with its annotations and buttons, a deployment and its
// statuses. The github adapter maps them to and from GitHub's API.
package forge

import "time"

// PullRequest is what ferry needs to know about a pull request to act on
// a command about it.
type PullRequest struct {
	Number    int
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
