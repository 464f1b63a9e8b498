package githubsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Artifact is a file a workflow run uploaded (a zip archive).
type Artifact struct {
	ID      int64
	RunID   int64
	Attempt int
	Name    string
	Zip     []byte
	Expired bool
}

// blobPrefix is where the simulator serves artifact archives: a storage
// URL outside the REST API, as GitHub's download redirect points to.
const blobPrefix = "/blob/"

// AddArtifact records an artifact of a workflow run's attempt and returns
// its id.
func (s *Sim) AddArtifact(repo string, runID int64, attempt int, name string, zip []byte) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	a := &Artifact{ID: s.nextID(), RunID: runID, Attempt: attempt, Name: name, Zip: zip}
	r.artifacts = append(r.artifacts, a)
	return a.ID
}

// WorkflowRunCompleted sends the real workflow_run completed payload for
// attempt of run runID on sha (branch), concluded conclusion.
func (s *Sim) WorkflowRunCompleted(repo string, runID int64, attempt int, sha, branch, conclusion string) (guid string, status int) {
	return s.workflowRunCompleted(repo, runID, attempt, sha, branch, conclusion, false)
}

// ForkWorkflowRunCompleted is WorkflowRunCompleted for a run of a pull
// request from a fork (its head repository is the fork).
func (s *Sim) ForkWorkflowRunCompleted(repo string, runID int64, attempt int, sha, branch, conclusion string) (guid string, status int) {
	return s.workflowRunCompleted(repo, runID, attempt, sha, branch, conclusion, true)
}

func (s *Sim) workflowRunCompleted(repo string, runID int64, attempt int, sha, branch, conclusion string, fork bool) (string, int) {
	s.mu.Lock()
	r := s.mustRepo(repo)
	p := from("workflow_run", "completed.payload.json")
	p["installation"] = map[string]any{"id": r.Installation, "node_id": "inst"}
	s.repoPart(p["repository"].(map[string]any), r)
	wr := p["workflow_run"].(map[string]any)
	wr["id"], wr["run_attempt"], wr["head_sha"], wr["head_branch"] = runID, attempt, sha, branch
	wr["status"], wr["conclusion"] = "completed", conclusion
	if name, _ := wr["name"].(string); name == "" {
		wr["name"] = "CI" // the recorded payload's workflow has none
	}
	wr["artifacts_url"] = s.srv.URL + fmt.Sprintf("/repos/%s/actions/runs/%d/artifacts", r.FullName(), runID)
	if repoObj, ok := wr["repository"].(map[string]any); ok {
		s.repoPart(repoObj, r)
	}
	if head, ok := wr["head_repository"].(map[string]any); ok {
		s.repoPart(head, r)
		if fork {
			head["id"], head["full_name"] = r.ID+1_000_000, "mallory/"+r.Name
		}
	}
	s.recordWorkflowRun(r, &WorkflowRun{ID: runID, Attempt: attempt, Name: wr["name"].(string), HeadSHA: sha, HeadBranch: branch,
		Conclusion: conclusion})
	body, _ := json.Marshal(p)
	s.mu.Unlock()
	return s.SendWebhook("workflow_run", body)
}

func listRunArtifacts(c *call) response {
	r := c.repo()
	runID, _ := strconv.ParseInt(c.param("run_id"), 10, 64)
	obj := c.object(200)
	tmpl := map[string]any{}
	if list, ok := obj["artifacts"].([]any); ok && len(list) > 0 {
		tmpl = list[0].(map[string]any)
	}
	var items []any
	for _, a := range r.artifacts {
		if a.RunID != runID {
			continue
		}
		it := clone(tmpl).(map[string]any)
		it["id"], it["name"], it["size_in_bytes"], it["expired"] = a.ID, a.Name, len(a.Zip), a.Expired
		it["archive_download_url"] = c.apiURL(fmt.Sprintf("/repos/%s/actions/artifacts/%d/zip", r.FullName(), a.ID))
		if wr, ok := it["workflow_run"].(map[string]any); ok {
			wr["id"] = runID
		}
		items = append(items, it)
	}
	if items == nil {
		items = []any{}
	}
	obj["artifacts"], obj["total_count"] = items, len(items)
	return response{status: http.StatusOK, body: obj}
}

func downloadArtifact(c *call) response {
	r := c.repo()
	id, _ := strconv.ParseInt(c.param("artifact_id"), 10, 64)
	for _, a := range r.artifacts {
		if a.ID == id && !a.Expired {
			return response{status: http.StatusFound, header: http.Header{
				"Location": {c.apiURL(fmt.Sprintf("%s%s/%d.zip?sig=signed", blobPrefix, r.FullName(), a.ID))}}}
		}
	}
	return errorResponse(http.StatusGone, "Artifact has expired")
}

// serveBlob serves an artifact's archive at the storage URL a download
// redirects to: no token (the URL is signed), like GitHub's storage.
func (s *Sim) serveBlob(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		s.t.Errorf("githubsim: the artifact storage URL was sent a token")
	}
	rest := strings.TrimPrefix(r.URL.Path, blobPrefix)
	i := strings.LastIndex(rest, "/")
	if i < 0 || r.URL.Query().Get("sig") == "" {
		http.NotFound(w, r)
		return
	}
	id, _ := strconv.ParseInt(strings.TrimSuffix(rest[i+1:], ".zip"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, ok := s.repos[rest[:i]]
	if !ok {
		http.NotFound(w, r)
		return
	}
	for _, a := range repo.artifacts {
		if a.ID == id {
			w.Header().Set("Content-Type", "application/zip")
			_, _ = w.Write(a.Zip)
			return
		}
	}
	http.NotFound(w, r)
}
