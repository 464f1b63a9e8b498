package github

import (
	"context"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// Marker is the hidden HTML comment that makes a comment ferry's sticky
// comment for key.
func Marker(key string) string { return "<!-- ferry:" + key + " -->" }

// UpsertComment keeps exactly one comment of ferry's, found by its hidden
// marker, on an issue or pull request: created once, then updated in place.
// Concurrent calls in this process are serialized; should two comments
// exist anyway (another replica, a retried create whose answer was lost),
// the oldest is kept and the others deleted.
func (c *Client) UpsertComment(ctx context.Context, owner, repo string, number int, key, body string) (id int64, err error) {
	unlock := c.app.locks.Lock(fmt.Sprintf("comment %d %s/%s#%d %s", c.id, owner, repo, number, key))
	defer unlock()
	marker := Marker(key)
	full := Truncate(marker+"\n"+body, MaxText)
	mine, err := c.markedComments(ctx, owner, repo, number, marker)
	if err != nil {
		return 0, err
	}
	if len(mine) == 0 {
		cm, _, err := c.gh.Issues.CreateComment(ctx, owner, repo, number, &gh.IssueComment{Body: &full})
		if err != nil {
			return 0, fmt.Errorf("create comment on %s/%s#%d: %w", owner, repo, number, err)
		}
		return cm.GetID(), nil
	}
	keep := mine[0]
	for _, extra := range mine[1:] {
		if _, err := c.gh.Issues.DeleteComment(ctx, owner, repo, extra.GetID()); err != nil && Classify(err) != KindNotFound {
			return 0, fmt.Errorf("delete duplicate comment %d: %w", extra.GetID(), err)
		}
	}
	if keep.GetBody() == full {
		return keep.GetID(), nil // nothing changed: spare the edit history
	}
	if _, _, err := c.gh.Issues.EditComment(ctx, owner, repo, keep.GetID(), &gh.IssueComment{Body: &full}); err != nil {
		return 0, fmt.Errorf("update comment %d on %s/%s#%d: %w", keep.GetID(), owner, repo, number, err)
	}
	return keep.GetID(), nil
}

// markedComments returns ferry's comments carrying marker, oldest first.
func (c *Client) markedComments(ctx context.Context, owner, repo string, number int, marker string) ([]*gh.IssueComment, error) {
	var mine []*gh.IssueComment
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		page, resp, err := c.gh.Issues.ListComments(ctx, owner, repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("list comments of %s/%s#%d: %w", owner, repo, number, err)
		}
		for _, cm := range page {
			if c.ours(cm) && strings.HasPrefix(cm.GetBody(), marker) {
				mine = append(mine, cm)
			}
		}
		if resp.NextPage == 0 {
			return mine, nil
		}
		opts.Page = resp.NextPage
	}
}

// ours: a comment by a bot (the App's own, when its login is known). A
// human quoting the marker never has their comment overwritten.
func (c *Client) ours(cm *gh.IssueComment) bool {
	if bot := c.app.cfg.BotLogin; bot != "" {
		return cm.GetUser().GetLogin() == bot
	}
	return cm.GetUser().GetType() == "Bot"
}
