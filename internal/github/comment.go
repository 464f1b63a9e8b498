package github

import (
	"context"
	"fmt"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// Marker is the hidden HTML comment that makes a comment ferry's sticky
// comment for key.
func Marker(key string) string { return "<!-- ferry:" + key + " -->" }

// CommentIndex remembers the ids of ferry's own comments by key, so ferry
// edits them by id instead of paging through every comment of an issue —
// which anyone can make arbitrarily long — to find its marker.
type CommentIndex interface {
	CommentID(ctx context.Context, installationID int64, repository string, number int, key string) (int64, error)
	SetCommentID(ctx context.Context, installationID int64, repository string, number int, key string, id int64) error
}

// commentPending marks a create that was sent and whose answer was not
// recorded (the store's CommentPending).
const commentPending = -1

// maxCommentPages bounds the search for a comment ferry has no id for:
// one made before ferry recorded ids, or by a create whose answer was lost.
const maxCommentPages = 3

// UpsertComment keeps exactly one comment of ferry's for key on an issue or
// pull request: created once, then edited in place, found by the id ferry
// recorded (the intent to create is recorded first, so a lost answer is
// looked up, not created twice). Concurrent calls in this process are
// serialized.
func (c *Client) UpsertComment(ctx context.Context, owner, repo string, number int, key, body string) (id int64, err error) {
	unlock := c.app.locks.Lock(fmt.Sprintf("comment %d %s/%s#%d %s", c.id, owner, repo, number, key))
	defer unlock()
	full := Truncate(Marker(key)+"\n"+body, MaxText)
	idx, repoName := c.app.cfg.Comments, strings.ToLower(owner+"/"+repo)
	if idx == nil {
		return c.upsertByMarker(ctx, owner, repo, number, key, full)
	}
	if id, err = idx.CommentID(ctx, c.id, repoName, number, key); err != nil {
		return 0, err
	}
	if id > 0 {
		done, err := c.editByID(ctx, owner, repo, id, full)
		if done || err != nil {
			return id, err
		}
		id = 0 // deleted since: make it again
	}
	if id == commentPending {
		if id, err = c.findMarked(ctx, owner, repo, number, Marker(key)); err != nil {
			return 0, err
		}
		if id > 0 {
			if _, err := c.editByID(ctx, owner, repo, id, full); err != nil {
				return 0, err
			}
			return id, idx.SetCommentID(ctx, c.id, repoName, number, key, id)
		}
	}
	if err := idx.SetCommentID(ctx, c.id, repoName, number, key, commentPending); err != nil {
		return 0, err
	}
	cm, _, err := c.gh.Issues.CreateComment(ctx, owner, repo, number, &gh.IssueComment{Body: &full})
	if err != nil {
		return 0, fmt.Errorf("create comment on %s/%s#%d: %w", owner, repo, number, err)
	}
	return cm.GetID(), idx.SetCommentID(ctx, c.id, repoName, number, key, cm.GetID())
}

// editByID edits comment id to body unless it already says that (a
// conditional read costs no rate limit). done is false when the comment is
// gone, or is not ferry's (an id must never let ferry edit another's).
func (c *Client) editByID(ctx context.Context, owner, repo string, id int64, body string) (done bool, err error) {
	cm, _, err := c.gh.Issues.GetComment(ctx, owner, repo, id)
	if Classify(err) == KindNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("get comment %d: %w", id, err)
	}
	if !c.ours(ctx, cm) {
		return false, nil
	}
	if cm.GetBody() == body {
		return true, nil // nothing changed: spare the edit history
	}
	if _, _, err := c.gh.Issues.EditComment(ctx, owner, repo, id, &gh.IssueComment{Body: &body}); err != nil {
		if Classify(err) == KindNotFound {
			return false, nil
		}
		return false, fmt.Errorf("update comment %d: %w", id, err)
	}
	return true, nil
}

// findMarked looks for ferry's comment with marker among the first pages of
// comments (oldest first), and returns its id or 0.
func (c *Client) findMarked(ctx context.Context, owner, repo string, number int, marker string) (int64, error) {
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for range maxCommentPages {
		page, resp, err := c.gh.Issues.ListComments(ctx, owner, repo, number, opts)
		if err != nil {
			return 0, fmt.Errorf("list comments of %s/%s#%d: %w", owner, repo, number, err)
		}
		for _, cm := range page {
			if strings.HasPrefix(cm.GetBody(), marker) && c.ours(ctx, cm) {
				return cm.GetID(), nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return 0, nil
}

// upsertByMarker is UpsertComment without an index (tests, tools): ferry's
// comments are found by their marker; should two exist anyway, the oldest
// is kept and the others deleted.
func (c *Client) upsertByMarker(ctx context.Context, owner, repo string, number int, key, full string) (int64, error) {
	mine, err := c.markedComments(ctx, owner, repo, number, Marker(key))
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
	if _, err := c.editByID(ctx, owner, repo, keep.GetID(), full); err != nil {
		return 0, err
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
			if c.ours(ctx, cm) && strings.HasPrefix(cm.GetBody(), marker) {
				mine = append(mine, cm)
			}
		}
		if resp.NextPage == 0 {
			return mine, nil
		}
		opts.Page = resp.NextPage
	}
}

// ours: a comment by the App's own bot. The bot's login comes from the
// configuration or from GitHub (GET /app); while neither is known, no
// comment is taken for ferry's — another bot's comment carrying ferry's
// marker is never edited or deleted as if it were.
func (c *Client) ours(ctx context.Context, cm *gh.IssueComment) bool {
	bot := c.app.BotLogin(ctx)
	return bot != "" && strings.EqualFold(cm.GetUser().GetLogin(), bot)
}

// BotLogin is the App's bot account ("SLUG[bot]"): the configured one, else
// read once from GitHub (GET /app), retried at most once a minute while
// GitHub does not answer ("" until then).
func (a *App) BotLogin(ctx context.Context) string {
	a.botMu.Lock()
	defer a.botMu.Unlock()
	if a.cfg.BotLogin != "" || time.Since(a.botTried) < time.Minute {
		return a.cfg.BotLogin
	}
	a.botTried = time.Now()
	app, _, err := a.client.Apps.Get(ctx, "")
	if err != nil || app.GetSlug() == "" {
		a.cfg.Logger.WarnContext(ctx, "could not read the App's bot login from GitHub (GET /app); set --github-bot-login", "err", err)
		return ""
	}
	a.cfg.BotLogin = app.GetSlug() + "[bot]"
	return a.cfg.BotLogin
}
