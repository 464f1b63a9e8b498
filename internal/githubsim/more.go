package githubsim

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// AddCommit makes a commit object known (for refs pointing at it).
func (s *Sim) AddCommit(repo, sha string, parents ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	tree := fakeSHA(repo, sha, "tree")
	r.commits[sha] = &GitCommit{SHA: sha, Tree: tree, Parents: parents, Message: "commit " + sha[:7]}
	if _, ok := r.trees[tree]; !ok {
		r.trees[tree] = []TreeEntry{} // its own content: a commit made with its tree has the same
	}
}

// CommitTree returns the tree of a commit the simulator knows, or "".
func (s *Sim) CommitTree(repo, sha string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.mustRepo(repo).commits[sha]; c != nil {
		return c.Tree
	}
	return ""
}

// CommitParents returns the parents of a commit the simulator knows.
func (s *Sim) CommitParents(repo, sha string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.mustRepo(repo).commits[sha]; c != nil {
		return append([]string(nil), c.Parents...)
	}
	return nil
}

// AddIssue adds an issue and returns its number.
func (s *Sim) AddIssue(repo, title string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	n := r.nextNumber
	r.nextNumber++
	r.issues[n] = &Issue{Number: n, Title: title, ID: s.nextID()}
	return n
}

// Issues lists a repository's issues (not pull requests), by number.
func (s *Sim) Issues(repo string) []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	var out []Issue
	for _, is := range r.issues {
		out = append(out, *is)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// InstallationToken issues a token the way the access_tokens call does,
// for tests that speak to the simulator without the adapter.
func (s *Sim) InstallationToken(installation int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, _ := s.issueToken(installation)
	return t
}

func (c *call) issueObject(tmpl map[string]any, r *Repo, is *Issue) map[string]any {
	tmpl["id"], tmpl["number"], tmpl["title"], tmpl["state"], tmpl["body"] = int(is.ID), is.Number, is.Title, "open", is.Body
	tmpl["url"] = c.apiURL(fmt.Sprintf("/repos/%s/issues/%d", r.FullName(), is.Number))
	tmpl["html_url"] = fmt.Sprintf("https://github.com/%s/issues/%d", r.FullName(), is.Number)
	tmpl["user"] = c.user(tmpl["user"], c.sim.BotLogin())
	tmpl["timeline_url"] = tmpl["url"].(string) + "/timeline"
	tmpl["reactions"] = c.reactions(tmpl["url"].(string))
	tmpl["performed_via_github_app"] = nil
	delete(tmpl, "pull_request")
	return tmpl
}

func createIssue(c *call) response {
	r := c.repo()
	var in struct{ Title, Body string }
	c.decode(&in)
	is := &Issue{Number: r.nextNumber, Title: in.Title, Body: in.Body, ID: c.sim.nextID()}
	r.nextNumber++
	r.issues[is.Number] = is
	return created(c.issueObject(c.object(201), r, is))
}

func listIssues(c *call) response {
	r := c.repo()
	var nums []int
	for n := range r.issues {
		nums = append(nums, n)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(nums))) // newest first, GitHub's default
	tmpl := c.item(200)
	var items []any
	for _, n := range nums {
		items = append(items, c.issueObject(clone(tmpl).(map[string]any), r, r.issues[n]))
	}
	return c.paginate(items)
}

func deleteRef(c *call) response {
	r := c.repo()
	if _, ok := r.refs[c.param("ref")]; !ok {
		return validation("Reference", "ref", "invalid", "Reference does not exist")
	}
	delete(r.refs, c.param("ref"))
	return response{status: http.StatusNoContent}
}

// getRoot answers GET /: the description's map of URL templates, pointing
// at the simulator.
func getRoot(c *call) response {
	obj := c.object(http.StatusOK)
	for k, v := range obj {
		if s, ok := v.(string); ok {
			obj[k] = strings.Replace(s, "https://api.github.com", c.sim.srv.URL, 1)
		}
	}
	return response{status: http.StatusOK, body: obj}
}
