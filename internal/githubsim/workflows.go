package githubsim

import (
	"fmt"
	"net/http"
	"slices"
)

// WorkflowRun is a GitHub Actions workflow run (its latest attempt) the
// simulator lists.
type WorkflowRun struct {
	ID         int64
	Attempt    int
	Name       string
	HeadSHA    string
	HeadBranch string
	Conclusion string // "" while it runs
}

// AddWorkflowRun records a workflow run on sha (branch) without an event:
// listed for its commit, its artifacts added with AddArtifact.
func (s *Sim) AddWorkflowRun(repo string, runID int64, name, sha, branch, conclusion string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordWorkflowRun(s.mustRepo(repo), &WorkflowRun{ID: runID, Attempt: 1, Name: name, HeadSHA: sha, HeadBranch: branch, Conclusion: conclusion})
}

// recordWorkflowRun adds a run or replaces its earlier attempt (under the
// lock).
func (s *Sim) recordWorkflowRun(r *Repo, wr *WorkflowRun) {
	if i := slices.IndexFunc(r.workflowRuns, func(x *WorkflowRun) bool { return x.ID == wr.ID }); i >= 0 {
		r.workflowRuns[i] = wr
		return
	}
	r.workflowRuns = append(r.workflowRuns, wr)
}

// SetCheckRunOutput sets a check run's output (another App's, as its CI
// wrote it): title, summary and text.
func (s *Sim) SetCheckRunOutput(repo string, id int64, title, summary, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cr := range s.mustRepo(repo).checkRuns {
		if cr.ID == id {
			cr.Title, cr.Summary, cr.Text = title, summary, text
			return
		}
	}
	s.t.Fatalf("githubsim: no check run %d in %s", id, repo)
}

// listWorkflowRuns lists a repository's workflow runs, newest first,
// filtered by head_sha and branch as GitHub does.
func listWorkflowRuns(c *call) response {
	r := c.repo()
	q := c.r.URL.Query()
	obj := c.object(http.StatusOK)
	tmpl := map[string]any{}
	if list, ok := obj["workflow_runs"].([]any); ok && len(list) > 0 {
		tmpl = list[0].(map[string]any)
	}
	items := []any{}
	for i := len(r.workflowRuns) - 1; i >= 0; i-- {
		wr := r.workflowRuns[i]
		if (q.Get("head_sha") != "" && wr.HeadSHA != q.Get("head_sha")) || (q.Get("branch") != "" && wr.HeadBranch != q.Get("branch")) {
			continue
		}
		it := clone(tmpl).(map[string]any)
		it["id"], it["run_attempt"], it["name"], it["head_sha"], it["head_branch"] = wr.ID, wr.Attempt, wr.Name, wr.HeadSHA, nullable(wr.HeadBranch)
		it["status"], it["conclusion"] = "completed", nullable(wr.Conclusion)
		if wr.Conclusion == "" {
			it["status"] = "in_progress"
		}
		it["url"] = c.apiURL(fmt.Sprintf("/repos/%s/actions/runs/%d", r.FullName(), wr.ID))
		it["html_url"] = fmt.Sprintf("https://github.com/%s/actions/runs/%d", r.FullName(), wr.ID)
		it["artifacts_url"] = it["url"].(string) + "/artifacts"
		items = append(items, it)
	}
	obj["workflow_runs"], obj["total_count"] = items, len(items)
	return response{status: http.StatusOK, body: obj}
}
