package github

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/forge"
)

// RunArtifacts lists a workflow run's artifacts (at most 500).
func (c *Client) RunArtifacts(ctx context.Context, owner, repo string, runID int64) ([]forge.Artifact, error) {
	var out []forge.Artifact
	opts := &gh.ListOptions{PerPage: 100}
	for page := 0; page < 5; page++ {
		list, resp, err := c.gh.Actions.ListWorkflowRunArtifacts(ctx, owner, repo, runID, opts)
		if err != nil {
			return nil, fmt.Errorf("list artifacts of run %d: %w", runID, err)
		}
		for _, a := range list.Artifacts {
			out = append(out, forge.Artifact{ID: a.GetID(), Name: a.GetName(), Size: a.GetSizeInBytes(), Expired: a.GetExpired()})
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// ErrArtifactTooLarge is an artifact past the caller's limit.
var ErrArtifactTooLarge = errors.New("artifact too large")

// DownloadArtifact fetches an artifact's zip archive, at most max bytes:
// GitHub answers with a signed storage URL, fetched without the token.
func (c *Client) DownloadArtifact(ctx context.Context, owner, repo string, id, max int64) ([]byte, error) {
	u, _, err := c.gh.Actions.DownloadArtifact(ctx, owner, repo, id, 0)
	if err != nil {
		return nil, fmt.Errorf("artifact %d: %w", id, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("artifact %d: %w", id, err)
	}
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("download artifact %d: %w", id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download artifact %d: storage answered %s", id, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("download artifact %d: %w", id, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("artifact %d: %w (more than %d bytes)", id, ErrArtifactTooLarge, max)
	}
	return b, nil
}
