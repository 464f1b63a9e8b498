package github

import (
	"context"
	"encoding/json"
	"fmt"

	gh "github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/forge"
)

// CreateDeployment records a deployment. ferry checks its own state before
// calling this: a POST is not retried, so a lost answer must not create two.
func (c *Client) CreateDeployment(ctx context.Context, owner, repo string, d forge.Deployment) (int64, error) {
	req := &gh.DeploymentRequest{
		Ref: gh.String(d.Ref), Environment: gh.String(d.Environment), Description: strOrNil(d.Description),
		Task: strOrNil(d.Task), AutoMerge: gh.Bool(false), RequiredContexts: &[]string{},
		ProductionEnvironment: gh.Bool(d.Production),
	}
	if d.Payload != nil {
		req.Payload = d.Payload
	}
	dep, _, err := c.gh.Repositories.CreateDeployment(ctx, owner, repo, req)
	if err != nil {
		return 0, fmt.Errorf("create deployment of %s to %s: %w", d.Ref, d.Environment, err)
	}
	return dep.GetID(), nil
}

// SetDeploymentStatus adds a status to a deployment.
func (c *Client) SetDeploymentStatus(ctx context.Context, owner, repo string, id int64, s forge.DeploymentStatus) error {
	req := &gh.DeploymentStatusRequest{State: gh.String(s.State), Description: strOrNil(Truncate(s.Description, 140)),
		EnvironmentURL: strOrNil(s.EnvironmentURL), LogURL: strOrNil(s.LogURL)}
	if _, _, err := c.gh.Repositories.CreateDeploymentStatus(ctx, owner, repo, id, req); err != nil {
		return fmt.Errorf("set deployment %d %s: %w", id, s.State, err)
	}
	return nil
}

// FindDeployment returns the id of the deployment of sha to environment
// whose payload has key = value, or 0: ferry records that it is about to
// create one, and after a crash finds it instead of creating a second.
func (c *Client) FindDeployment(ctx context.Context, owner, repo, sha, environment, key, value string) (int64, error) {
	opts := &gh.DeploymentsListOptions{SHA: sha, Environment: environment, ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		page, resp, err := c.gh.Repositories.ListDeployments(ctx, owner, repo, opts)
		if err != nil {
			return 0, fmt.Errorf("list deployments of %s to %s: %w", sha, environment, err)
		}
		for _, d := range page {
			var payload map[string]any
			if json.Unmarshal(d.Payload, &payload) == nil && payload[key] == value {
				return d.GetID(), nil
			}
		}
		if resp.NextPage == 0 {
			return 0, nil
		}
		opts.Page = resp.NextPage
	}
}
