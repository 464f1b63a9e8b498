package github

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// AddLabels adds labels to an issue or pull request.
func (c *Client) AddLabels(ctx context.Context, owner, repo string, number int, labels ...string) error {
	// The object form: GitHub's published description no longer lists the
	// bare-array body go-github sends.
	u := fmt.Sprintf("repos/%s/%s/issues/%d/labels", owner, repo, number)
	req, err := c.gh.NewRequest("POST", u, map[string][]string{"labels": labels})
	if err != nil {
		return err
	}
	if _, err := c.gh.Do(ctx, req, nil); err != nil {
		return fmt.Errorf("add labels to %s/%s#%d: %w", owner, repo, number, err)
	}
	return nil
}

// RemoveLabel removes a label; one that is not there is not an error.
func (c *Client) RemoveLabel(ctx context.Context, owner, repo string, number int, label string) error {
	_, err := c.gh.Issues.RemoveLabelForIssue(ctx, owner, repo, number, url.PathEscape(label))
	if err != nil && Classify(err) != KindNotFound {
		return fmt.Errorf("remove label %q from %s/%s#%d: %w", label, owner, repo, number, err)
	}
	return nil
}

// React adds a reaction (+1, -1, laugh, confused, heart, hooray, rocket,
// eyes) to an issue or pull request comment. Reacting twice is harmless.
func (c *Client) React(ctx context.Context, owner, repo string, commentID int64, content string) error {
	if _, _, err := c.gh.Reactions.CreateIssueCommentReaction(ctx, owner, repo, commentID, content); err != nil {
		return fmt.Errorf("react %s to comment %d: %w", content, commentID, err)
	}
	return nil
}

// Permission returns a user's role on a repository: admin, maintain,
// write, triage, read or none.
func (c *Client) Permission(ctx context.Context, owner, repo, user string) (string, error) {
	// Decoded here: go-github v60 lacks role_name, the only field that tells
	// maintain and triage apart (permission is the legacy admin/write/read).
	u := fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", owner, repo, url.PathEscape(user))
	req, err := c.gh.NewRequest("GET", u, nil)
	if err != nil {
		return "", err
	}
	var p struct {
		Permission string `json:"permission"`
		RoleName   string `json:"role_name"`
	}
	if _, err := c.gh.Do(ctx, req, &p); err != nil {
		return "", fmt.Errorf("permission of %s on %s/%s: %w", user, owner, repo, err)
	}
	if p.RoleName != "" {
		return p.RoleName, nil
	}
	return p.Permission, nil
}

// OpenIssue finds ferry's open issue whose body carries the key's marker
// (among the newest 300 open issues) or opens it: a retry never opens a
// second.
func (c *Client) OpenIssue(ctx context.Context, owner, repo, key, title, body string) (number int, created bool, err error) {
	marker := Marker(key)
	opts := &gh.IssueListByRepoOptions{State: "open", ListOptions: gh.ListOptions{PerPage: 100}}
	for page := 0; page < 3; page++ {
		list, resp, err := c.gh.Issues.ListByRepo(ctx, owner, repo, opts)
		if err != nil {
			return 0, false, fmt.Errorf("list issues: %w", err)
		}
		bot := c.app.BotLogin(ctx)
		for _, is := range list {
			// Only ferry's own: anyone can write the marker into an issue.
			if !is.IsPullRequest() && strings.HasPrefix(is.GetBody(), marker) && bot != "" && strings.EqualFold(is.GetUser().GetLogin(), bot) {
				return is.GetNumber(), false, nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	full := Truncate(marker+"\n"+body, MaxText)
	is, _, err := c.gh.Issues.Create(ctx, owner, repo, &gh.IssueRequest{Title: gh.String(title), Body: &full})
	if err != nil {
		return 0, false, fmt.Errorf("open issue: %w", err)
	}
	return is.GetNumber(), true, nil
}
