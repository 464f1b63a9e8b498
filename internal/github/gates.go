package github

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/forge"
)

// GateRequested is GitHub asking ferry, a custom deployment protection
// rule of an environment, whether a deployment may go ahead.
type GateRequested struct {
	Repo         Repo
	Environment  string
	SHA, Ref     string
	DeploymentID int64
	// RunID is the workflow run waiting, read from the callback URL; 0
	// when that URL is not this repository's run on GitHub's API (ferry
	// never calls a URL a payload names: it answers through its own API
	// client, for this repository's run).
	RunID int64
	// PullRequests are the pull requests GitHub names (a deployment from a
	// pull request's branch): number and head.
	PullRequests []GatePR
	Sender       Actor
}

// GatePR is a pull request a protection rule request names.
type GatePR struct {
	Number int
	Head   string
}

func gateRequested(e *gh.DeploymentProtectionRuleEvent) any {
	if e.GetAction() != "requested" {
		return nil
	}
	g := GateRequested{Repo: repoOf(e.GetRepo(), e.GetInstallation()), Environment: e.GetEnvironment(),
		SHA: e.GetDeployment().GetSHA(), Ref: e.GetDeployment().GetRef(), DeploymentID: e.GetDeployment().GetID(), Sender: actorOf(e.GetSender())}
	g.RunID = runOf(e.GetDeploymentCallbackURL(), g.Repo)
	for _, pr := range e.PullRequests {
		g.PullRequests = append(g.PullRequests, GatePR{Number: pr.GetNumber(), Head: pr.GetHead().GetSHA()})
	}
	return g
}

// runOf reads the run id from a callback URL of the form
// …/repos/OWNER/NAME/actions/runs/ID/deployment_protection_rule naming
// this repository; 0 otherwise.
func runOf(callback string, r Repo) int64 {
	u, err := url.Parse(callback)
	if err != nil {
		return 0
	}
	_, rest, ok := strings.Cut(u.Path, "/repos/")
	if !ok {
		return 0
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 6 || !strings.EqualFold(parts[0], r.Owner) || !strings.EqualFold(parts[1], r.Name) || parts[2] != "actions" ||
		parts[3] != "runs" || parts[5] != "deployment_protection_rule" {
		return 0
	}
	id, err := strconv.ParseInt(parts[4], 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// ReviewGate answers a protection rule request of a run: state approved
// or rejected with a comment, or, with state "", only a comment (a "not
// yet" GitHub shows on the run while it waits). An answer GitHub refuses
// because the run no longer waits (422, or 404 once the run is gone) is
// forge.ErrGateClosed.
func (c *Client) ReviewGate(ctx context.Context, owner, repo string, runID int64, environment, state, comment string) error {
	body := map[string]string{"environment_name": environment, "comment": Truncate(comment, 1000)}
	if state != "" {
		body["state"] = state
	}
	req, err := c.gh.NewRequest("POST", fmt.Sprintf("repos/%s/%s/actions/runs/%d/deployment_protection_rule", owner, repo, runID), body)
	if err != nil {
		return err
	}
	if _, err := c.gh.Do(ctx, req, nil); err != nil {
		if k := Classify(err); (k == KindValidation || k == KindNotFound) && state != "" {
			err = errors.Join(err, forge.ErrGateClosed)
		}
		return fmt.Errorf("review the %s gate of run %d: %w", environment, runID, err)
	}
	return nil
}
