package github

import (
	"context"
	"fmt"

	gh "github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/forge"
)

func annotations(in []forge.Annotation) []*gh.CheckRunAnnotation {
	out := make([]*gh.CheckRunAnnotation, len(in))
	for i, a := range in {
		end := max(a.EndLine, a.StartLine)
		out[i] = &gh.CheckRunAnnotation{Path: gh.String(a.Path), StartLine: gh.Int(max(a.StartLine, 1)), EndLine: gh.Int(max(end, 1)),
			AnnotationLevel: gh.String(a.Level), Title: strOrNil(Truncate(a.Title, 255)), Message: gh.String(Truncate(a.Message, 64<<10))}
	}
	return out
}

func actions(in []forge.Button) []*gh.CheckRunAction {
	if in == nil {
		return nil
	}
	out := make([]*gh.CheckRunAction, len(in))
	for i, a := range in {
		// GitHub's limits: label 20, description 40, identifier 20 characters.
		out[i] = &gh.CheckRunAction{Label: Truncate(a.Label, 20), Description: Truncate(a.Description, 40), Identifier: a.Identifier}
	}
	return out
}

// annotationsPerRequest is GitHub's cap; further ones go in updates.
const annotationsPerRequest = 50

func output(r forge.CheckRun, batch []*gh.CheckRunAnnotation) *gh.CheckRunOutput {
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
func (c *Client) CreateCheckRun(ctx context.Context, owner, repo string, r forge.CheckRun) (int64, error) {
	b := batches(annotations(r.Annotations))
	opts := gh.CreateCheckRunOptions{
		Name: r.Name, HeadSHA: r.HeadSHA, Status: strOrNil(r.Status), Conclusion: strOrNil(r.Conclusion),
		ExternalID: strOrNil(r.ExternalID), Output: output(r, b[0]), Actions: actions(r.Buttons),
	}
	cr, _, err := c.gh.Checks.CreateCheckRun(ctx, owner, repo, opts)
	if err != nil {
		return 0, fmt.Errorf("create check run %q on %s: %w", r.Name, r.HeadSHA, err)
	}
	return cr.GetID(), c.moreAnnotations(ctx, owner, repo, cr.GetID(), r, b[1:])
}

// UpdateCheckRun updates a check run; its annotations are added to those
// it has.
func (c *Client) UpdateCheckRun(ctx context.Context, owner, repo string, id int64, r forge.CheckRun) error {
	b := batches(annotations(r.Annotations))
	opts := gh.UpdateCheckRunOptions{
		Name: r.Name, Status: strOrNil(r.Status), Conclusion: strOrNil(r.Conclusion),
		ExternalID: strOrNil(r.ExternalID), Output: output(r, b[0]), Actions: actions(r.Buttons),
	}
	if _, _, err := c.gh.Checks.UpdateCheckRun(ctx, owner, repo, id, opts); err != nil {
		return fmt.Errorf("update check run %d: %w", id, err)
	}
	return c.moreAnnotations(ctx, owner, repo, id, r, b[1:])
}

func (c *Client) moreAnnotations(ctx context.Context, owner, repo string, id int64, r forge.CheckRun, rest [][]*gh.CheckRunAnnotation) error {
	for _, batch := range rest {
		opts := gh.UpdateCheckRunOptions{Name: r.Name, Output: output(r, batch)}
		if _, _, err := c.gh.Checks.UpdateCheckRun(ctx, owner, repo, id, opts); err != nil {
			return fmt.Errorf("add annotations to check run %d: %w", id, err)
		}
	}
	return nil
}

// FindCheckRun returns the id of the check run named name on ref whose
// external id is externalID, or 0. ferry records that it is about to create
// a check run; after a crash it looks the run up instead of creating a
// second one.
func (c *Client) FindCheckRun(ctx context.Context, owner, repo, ref, name, externalID string) (int64, error) {
	opts := &gh.ListCheckRunsOptions{CheckName: gh.String(name), Filter: gh.String("all"), ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		res, resp, err := c.gh.Checks.ListCheckRunsForRef(ctx, owner, repo, ref, opts)
		if err != nil {
			return 0, fmt.Errorf("list check runs %q on %s: %w", name, ref, err)
		}
		for _, cr := range res.CheckRuns {
			if cr.GetExternalID() == externalID {
				return cr.GetID(), nil
			}
		}
		if resp.NextPage == 0 {
			return 0, nil
		}
		opts.Page = resp.NextPage
	}
}
