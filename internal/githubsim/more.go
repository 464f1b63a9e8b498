package githubsim

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
)

// AddCommit makes a commit object known (for refs pointing at it).
func (s *Sim) AddCommit(repo, sha string, parents ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	r.commits[sha] = &GitCommit{SHA: sha, Tree: fakeSHA(repo, sha, "tree"), Parents: parents, Message: "commit " + sha[:7]}
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

// InstallationToken issues a token the way the access_tokens call does,
// for tests that speak to the simulator without the adapter.
func (s *Sim) InstallationToken(installation int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, _ := s.issueToken(installation)
	return t
}

func (c *call) issueObject(tmpl map[string]any, r *Repo, is *Issue) map[string]any {
	tmpl["id"], tmpl["number"], tmpl["title"], tmpl["state"] = int(is.ID), is.Number, is.Title, "open"
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
	var in struct{ Title string }
	c.decode(&in)
	is := &Issue{Number: r.nextNumber, Title: in.Title, ID: c.sim.nextID()}
	r.nextNumber++
	r.issues[is.Number] = is
	return response{status: http.StatusCreated, body: c.issueObject(c.object(201), r, is)}
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

var labelColor = regexp.MustCompile(`^[0-9a-fA-F]{6}$`)

func createLabel(c *call) response {
	r := c.repo()
	var in struct{ Name, Color string }
	c.decode(&in)
	if !labelColor.MatchString(in.Color) {
		return validation("Label", "color", "invalid", "")
	}
	obj := c.object(201)
	obj["name"], obj["color"], obj["id"] = in.Name, in.Color, int(fakeID(r.FullName()+in.Name))
	obj["url"] = c.apiURL("/repos/" + r.FullName() + "/labels/" + in.Name)
	return response{status: http.StatusCreated, body: obj}
}

func deleteRef(c *call) response {
	r := c.repo()
	if _, ok := r.refs[c.param("ref")]; !ok {
		return validation("Reference", "ref", "invalid", "Reference does not exist")
	}
	delete(r.refs, c.param("ref"))
	return response{status: http.StatusNoContent}
}
