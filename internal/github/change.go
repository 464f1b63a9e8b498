package github

import (
	"context"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/change"
)

// maxCompareFiles is the most files GitHub's compare API lists.
const maxCompareFiles = 300

// PullRequestChange reads a pull request's files (with patches) and
// commits as a change between base and head.
func (c *Client) PullRequestChange(ctx context.Context, owner, repo string, number int, base, head string) (change.Change, error) {
	files, truncated, err := c.PullRequestFiles(ctx, owner, repo, number)
	if err != nil {
		return change.Change{}, err
	}
	commits, err := c.PullRequestCommits(ctx, owner, repo, number)
	if err != nil {
		return change.Change{}, err
	}
	return toChange(base, head, files, commits, truncated), nil
}

// CompareChange reads base...head (a push) as a change. GitHub lists at
// most 300 files there; more marks the change truncated.
func (c *Client) CompareChange(ctx context.Context, owner, repo, base, head string) (change.Change, error) {
	cmp, err := c.Compare(ctx, owner, repo, base, head)
	if err != nil {
		return change.Change{}, err
	}
	return toChange(base, head, cmp.Files, cmp.Commits, len(cmp.Files) >= maxCompareFiles), nil
}

func toChange(base, head string, files []*gh.CommitFile, commits []*gh.RepositoryCommit, truncated bool) change.Change {
	ch := change.Change{Base: base, Head: head, Truncated: truncated}
	for _, f := range files {
		ch.Files = append(ch.Files, change.File{
			Path: f.GetFilename(), PreviousPath: f.GetPreviousFilename(), Status: fileStatus(f.GetStatus()),
			Additions: f.GetAdditions(), Deletions: f.GetDeletions(), Patch: f.GetPatch(),
		})
	}
	for _, cm := range commits {
		author := cm.GetAuthor().GetLogin()
		if author == "" {
			author = cm.GetCommit().GetAuthor().GetName()
		}
		subject, _, _ := strings.Cut(cm.GetCommit().GetMessage(), "\n")
		ch.Commits = append(ch.Commits, change.Commit{SHA: cm.GetSHA(), Subject: subject, Author: author,
			Email: strings.ToLower(cm.GetCommit().GetAuthor().GetEmail()),
			Date:  cm.GetCommit().GetAuthor().GetDate().Time})
	}
	if len(ch.Commits) > 0 {
		ch.Author = ch.Commits[len(ch.Commits)-1].Author
	}
	return ch
}

// fileStatus maps GitHub's file statuses onto ferry's four.
func fileStatus(s string) change.Status {
	switch s {
	case "added", "copied":
		return change.Added
	case "removed":
		return change.Removed
	case "renamed":
		return change.Renamed
	}
	return change.Modified
}
