package github

import (
	"context"
	"fmt"

	gh "github.com/google/go-github/v60/github"
)

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
	Annotations []*gh.CheckRunAnnotation
	Actions     []*gh.CheckRunAction // buttons (at most 3)
}

// annotationsPerRequest is GitHub's cap; further ones go in updates.
const annotationsPerRequest = 50

func (r CheckRun) output(batch []*gh.CheckRunAnnotation) *gh.CheckRunOutput {
	if r.Title == "" && r.Summary == "" && len(batch) == 0 {
		return nil
	}
	out := &gh.CheckRunOutput{Title: gh.String(r.Title), Summary: gh.String(Truncate(r.Summary, MaxText)), Annotations: batch}
	if r.Text != "" {
		out.Text = gh.String(Truncate(r.Text, MaxText))
	}
	return out
}

func batches(all []*gh.CheckRunAnnotation) [][]*gh.CheckRunAnnotation {
	var out [][]*gh.CheckRunAnnotation
	for len(all) > annotationsPerRequest {
		out = append(out, all[:annotationsPerRequest])
		all = all[annotationsPerRequest:]
	}
	return append(out, all)
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CreateCheckRun creates a check run; annotations beyond 50 follow in
// updates, as GitHub requires.
func (c *Client) CreateCheckRun(ctx context.Context, owner, repo string, r CheckRun) (int64, error) {
	b := batches(r.Annotations)
	opts := gh.CreateCheckRunOptions{
		Name: r.Name, HeadSHA: r.HeadSHA, Status: strOrNil(r.Status), Conclusion: strOrNil(r.Conclusion),
		ExternalID: strOrNil(r.ExternalID), Output: r.output(b[0]), Actions: r.Actions,
	}
	cr, _, err := c.gh.Checks.CreateCheckRun(ctx, owner, repo, opts)
	if err != nil {
		return 0, fmt.Errorf("create check run %q on %s: %w", r.Name, r.HeadSHA, err)
	}
	return cr.GetID(), c.moreAnnotations(ctx, owner, repo, cr.GetID(), r, b[1:])
}

// UpdateCheckRun updates a check run; its annotations are added to those
// it has.
func (c *Client) UpdateCheckRun(ctx context.Context, owner, repo string, id int64, r CheckRun) error {
	b := batches(r.Annotations)
	opts := gh.UpdateCheckRunOptions{
		Name: r.Name, Status: strOrNil(r.Status), Conclusion: strOrNil(r.Conclusion),
		ExternalID: strOrNil(r.ExternalID), Output: r.output(b[0]), Actions: r.Actions,
	}
	if _, _, err := c.gh.Checks.UpdateCheckRun(ctx, owner, repo, id, opts); err != nil {
		return fmt.Errorf("update check run %d: %w", id, err)
	}
	return c.moreAnnotations(ctx, owner, repo, id, r, b[1:])
}

func (c *Client) moreAnnotations(ctx context.Context, owner, repo string, id int64, r CheckRun, rest [][]*gh.CheckRunAnnotation) error {
	for _, batch := range rest {
		opts := gh.UpdateCheckRunOptions{Name: r.Name, Output: r.output(batch)}
		if _, _, err := c.gh.Checks.UpdateCheckRun(ctx, owner, repo, id, opts); err != nil {
			return fmt.Errorf("add annotations to check run %d: %w", id, err)
		}
	}
	return nil
}
