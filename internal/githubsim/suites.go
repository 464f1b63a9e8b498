package githubsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"
)

// CheckSuite is the checks one App runs on one commit. ferry's own suite on
// a commit is made by its first check run there and follows its runs;
// other Apps' suites are set by the test (AddCheckSuite, AddCheckRun,
// CompleteCheckSuite, CheckSuiteCompleted).
type CheckSuite struct {
	ID         int64
	App        string // slug of the App whose suite it is
	HeadSHA    string
	HeadBranch string // "" (null) when no branch of this repository has the commit
	Status     string // queued, in_progress, completed
	Conclusion string // "" until completed
	Created    time.Time
	Updated    time.Time
}

// ciApp is the App CheckSuiteCompleted reports for: some CI, not ferry.
const ciApp = "ci"

// --- test set-up and inspection ---

// AddCheckSuite records a check suite of the App appSlug (another App's
// CI, e.g. "github-actions"; ferry's own is cfg.AppSlug) on sha, without an
// event, and returns its id. Status is queued, in_progress or completed;
// conclusion is "" until completed.
func (s *Sim) AddCheckSuite(repo, sha, branch, appSlug, status, conclusion string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.newSuite(s.mustRepo(repo), appSlug, sha, branch)
	cs.Status, cs.Conclusion = status, conclusion
	return cs.ID
}

// CompleteCheckSuite completes a check suite with conclusion and sends the
// real check_suite completed payload for it (with its App).
func (s *Sim) CompleteCheckSuite(repo string, suiteID int64, conclusion string) (guid string, status int) {
	s.mu.Lock()
	r := s.mustRepo(repo)
	i := slices.IndexFunc(r.suites, func(cs *CheckSuite) bool { return cs.ID == suiteID })
	if i < 0 {
		s.mu.Unlock()
		s.t.Fatalf("githubsim: no check suite %d in %s", suiteID, repo)
	}
	cs := r.suites[i]
	cs.Status, cs.Conclusion, cs.Updated = "completed", conclusion, s.now()
	body := s.checkSuiteEvent(r, cs)
	s.mu.Unlock()
	return s.SendWebhook("check_suite", body)
}

// CheckSuiteCompleted records a completed check suite of another App ("ci")
// on sha and branch and sends the real check_suite completed payload: the
// checks of sha on branch ended with conclusion.
func (s *Sim) CheckSuiteCompleted(repo, branch, sha, conclusion string) (guid string, status int) {
	id := s.AddCheckSuite(repo, sha, branch, ciApp, "completed", conclusion)
	return s.CompleteCheckSuite(repo, id, conclusion)
}

// AddCheckRun records another App's check run named name on sha (in that
// App's suite there, made if needed) without an event, and returns its id.
// A required status check is usually such a name.
func (s *Sim) AddCheckRun(repo, sha, appSlug, name, status, conclusion string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	cr := &CheckRun{ID: s.nextID(), Name: name, HeadSHA: sha, Status: status, Conclusion: conclusion, Started: s.now()}
	if conclusion != "" {
		cr.Status = "completed"
	}
	if cr.Status == "completed" {
		cr.Completed = s.now()
	}
	s.addRun(r, appSlug, cr)
	return cr.ID
}

// CheckSuites returns a repository's check suites, oldest first.
func (s *Sim) CheckSuites(repo string) []CheckSuite {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CheckSuite
	for _, cs := range s.mustRepo(repo).suites {
		out = append(out, *cs)
	}
	return out
}

// --- state (under the lock) ---

func (s *Sim) newSuite(r *Repo, appSlug, sha, branch string) *CheckSuite {
	cs := &CheckSuite{ID: s.nextID(), App: s.integration(appSlug).slug, HeadSHA: sha, HeadBranch: branch,
		Status: "queued", Created: s.now(), Updated: s.now()}
	r.suites = append(r.suites, cs)
	return cs
}

// addRun puts a check run in the latest suite of its App on its commit,
// as GitHub does, making the suite on first use.
func (s *Sim) addRun(r *Repo, appSlug string, cr *CheckRun) {
	cr.App = s.integration(appSlug).slug
	var cs *CheckSuite
	for _, x := range r.suites {
		if x.App == cr.App && x.HeadSHA == cr.HeadSHA {
			cs = x
		}
	}
	if cs == nil {
		cs = s.newSuite(r, cr.App, cr.HeadSHA, r.branchAt(cr.HeadSHA))
	}
	cr.SuiteID = cs.ID
	r.checkRuns = append(r.checkRuns, cr)
	s.rollUp(r, cs.ID)
}

// branchAt is the branch a suite on sha is for: a branch of this repository
// at sha, else a same-repository pull request's head ("" for a fork's).
func (r *Repo) branchAt(sha string) string {
	var names []string
	for ref, at := range r.refs {
		if b, ok := cutHeads(ref); ok && at == sha {
			names = append(names, b)
		}
	}
	sort.Strings(names)
	if len(names) > 0 {
		return names[0]
	}
	for _, p := range r.pullsAt(sha, "") {
		return p.Head
	}
	return ""
}

func cutHeads(ref string) (string, bool) {
	if len(ref) > 6 && ref[:6] == "heads/" {
		return ref[6:], true
	}
	return "", false
}

// pullsAt lists the same-repository pull requests whose head is sha (and
// branch, unless ""), by number: GitHub lists none of a fork's.
func (r *Repo) pullsAt(sha, branch string) []*PullRequest {
	var out []*PullRequest
	for _, p := range r.pulls {
		if p.HeadSHA == sha && p.HeadRepo == "" && (branch == "" || p.Head == branch) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// rollUp makes a suite's status follow its runs: completed when all are,
// queued while all are, else in progress; its conclusion is the runs'
// highest-priority one, as GitHub reports it.
func (s *Sim) rollUp(r *Repo, suiteID int64) {
	var cs *CheckSuite
	var runs []*CheckRun
	for _, x := range r.suites {
		if x.ID == suiteID {
			cs = x
		}
	}
	for _, cr := range r.checkRuns {
		if cr.SuiteID == suiteID {
			runs = append(runs, cr)
		}
	}
	if cs == nil || len(runs) == 0 {
		return
	}
	completed, queued := 0, 0
	for _, cr := range runs {
		switch cr.Status {
		case "completed":
			completed++
		case "queued":
			queued++
		}
	}
	cs.Updated, cs.Conclusion = s.now(), ""
	switch {
	case completed == len(runs):
		cs.Status, cs.Conclusion = "completed", worst(runs)
	case queued == len(runs):
		cs.Status = "queued"
	default:
		cs.Status = "in_progress"
	}
}

// conclusionPriority orders conclusions as a suite reports them: the first
// one any run has wins; success only when nothing above it.
var conclusionPriority = []string{"action_required", "startup_failure", "cancelled", "timed_out", "failure", "stale", "success", "neutral", "skipped"}

func worst(runs []*CheckRun) string {
	for _, c := range conclusionPriority {
		if slices.ContainsFunc(runs, func(cr *CheckRun) bool { return cr.Conclusion == c }) {
			return c
		}
	}
	return "neutral"
}

// --- REST ---

// resolveRef turns a branch name into its head; a SHA stays itself.
func (r *Repo) resolveRef(ref string) string {
	if sha, ok := r.refs["heads/"+ref]; ok {
		return sha
	}
	return ref
}

// listSuitesForRef lists the check suites on a commit (a branch name
// resolves to its head), filtered by app_id and check_name as GitHub does.
func listSuitesForRef(c *call) response {
	r := c.repo()
	sha := r.resolveRef(c.param("ref"))
	q := c.r.URL.Query()
	obj := c.object(http.StatusOK)
	tmpl := map[string]any{}
	if list, ok := obj["check_suites"].([]any); ok && len(list) > 0 {
		tmpl = list[0].(map[string]any)
	}
	items := []any{}
	for _, cs := range r.suites {
		if cs.HeadSHA != sha || !c.appMatches(cs.App) || !r.suiteHasRun(cs.ID, q.Get("check_name")) {
			continue
		}
		items = append(items, c.suiteObject(clone(tmpl).(map[string]any), r, cs))
	}
	return c.pageIn(obj, "check_suites", items)
}

// appMatches applies the app_id query parameter.
func (c *call) appMatches(slug string) bool {
	id := c.r.URL.Query().Get("app_id")
	return id == "" || id == strconv.FormatInt(c.sim.integration(slug).id, 10)
}

func (r *Repo) suiteHasRun(suiteID int64, name string) bool {
	return name == "" || slices.ContainsFunc(r.checkRuns, func(cr *CheckRun) bool { return cr.SuiteID == suiteID && cr.Name == name })
}

func (c *call) suiteObject(tmpl map[string]any, r *Repo, cs *CheckSuite) map[string]any {
	c.sim.fillSuite(tmpl, r, cs)
	if repo, ok := tmpl["repository"].(map[string]any); ok {
		tmpl["repository"] = c.repoObject(repo, r)
	}
	return tmpl
}

// fillSuite fills a check suite object (of a response or a payload).
func (s *Sim) fillSuite(m map[string]any, r *Repo, cs *CheckSuite) {
	u := fmt.Sprintf("%s/repos/%s/check-suites/%d", s.srv.URL, r.FullName(), cs.ID)
	m["id"], m["node_id"], m["head_sha"], m["status"] = cs.ID, fmt.Sprintf("CS_%d", cs.ID), cs.HeadSHA, cs.Status
	m["head_branch"], m["conclusion"] = nullable(cs.HeadBranch), nullable(cs.Conclusion)
	m["url"], m["check_runs_url"] = u, u+"/check-runs"
	m["before"], m["after"] = nil, cs.HeadSHA
	m["app"] = s.appObject(m["app"], s.integration(cs.App))
	m["created_at"], m["updated_at"] = stamp(cs.Created), stamp(cs.Updated)
	runs := 0
	for _, cr := range r.checkRuns {
		if cr.SuiteID == cs.ID {
			runs++
		}
	}
	m["latest_check_runs_count"] = runs
	prs := []any{}
	if cs.HeadBranch != "" {
		prs = s.prRefs(r, cs.HeadSHA, cs.HeadBranch)
	}
	m["pull_requests"] = prs
	hc, _ := m["head_commit"].(map[string]any)
	if hc == nil {
		hc = map[string]any{}
	}
	hc["id"], hc["tree_id"], hc["timestamp"] = cs.HeadSHA, fakeSHA(cs.HeadSHA, "tree"), stamp(cs.Created)
	if gc := r.commits[cs.HeadSHA]; gc != nil {
		hc["tree_id"], hc["message"] = gc.Tree, gc.Message
	}
	m["head_commit"] = hc
}

// prRefs are the minimal pull request objects check suites and runs list.
func (s *Sim) prRefs(r *Repo, sha, branch string) []any {
	repo := map[string]any{"id": r.ID, "url": s.srv.URL + "/repos/" + r.FullName(), "name": r.Name}
	out := []any{}
	for _, p := range r.pullsAt(sha, branch) {
		out = append(out, map[string]any{"url": fmt.Sprintf("%s/repos/%s/pulls/%d", s.srv.URL, r.FullName(), p.Number),
			"id": p.ID, "number": p.Number,
			"head": map[string]any{"ref": p.Head, "sha": p.HeadSHA, "repo": repo},
			"base": map[string]any{"ref": p.Base, "sha": p.BaseSHA, "repo": repo}})
	}
	return out
}

// checkSuiteEvent is the real check_suite completed payload for a suite
// (under the lock).
func (s *Sim) checkSuiteEvent(r *Repo, cs *CheckSuite) []byte {
	p := from("check_suite", "completed.payload.json")
	p["installation"] = map[string]any{"id": r.Installation, "node_id": "inst"}
	s.repoPart(p["repository"].(map[string]any), r)
	s.fillSuite(p["check_suite"].(map[string]any), r, cs)
	body, _ := json.Marshal(p)
	return body
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
