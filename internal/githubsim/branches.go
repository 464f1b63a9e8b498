package githubsim

import (
	"fmt"
	"net/http"
	"slices"
)

// protection is a protected branch's rule, as far as the simulator models
// it: the status checks required before merging (nil: none required) and
// whether admins are held to it.
type protection struct {
	checks        []requiredCheck
	strict        bool // the branch must be up to date before merging
	enforceAdmins bool
}

// requiredCheck is a required status check: a check run's name or a commit
// status's context, from one App (appID) or any (0, null on GitHub).
type requiredCheck struct {
	context string
	appID   int64
}

// SetRequiredChecks protects branch, requiring these checks (check run
// names or status contexts) from any App; with none, the branch is
// protected but requires nothing. A branch never given checks is
// unprotected.
func (s *Sim) SetRequiredChecks(repo, branch string, contexts ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &protection{checks: []requiredCheck{}}
	for _, ctx := range contexts {
		p.checks = append(p.checks, requiredCheck{context: ctx})
	}
	s.mustRepo(repo).protection[branch] = p
}

// RequireCheckFromApp protects branch (if it was not) and requires the
// check context from the App appSlug only (app_id pinned, as when a branch
// rule names the source), replacing any earlier rule for context.
func (s *Sim) RequireCheckFromApp(repo, branch, context, appSlug string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	p := r.protection[branch]
	if p == nil {
		p = &protection{}
		r.protection[branch] = p
	}
	p.checks = slices.DeleteFunc(p.checks, func(c requiredCheck) bool { return c.context == context })
	p.checks = append(p.checks, requiredCheck{context: context, appID: s.integration(appSlug).id})
}

// requiredStatusChecks is the required_status_checks object of a protected
// branch (or of an unprotected one: enforcement off, nothing required).
func (c *call) requiredStatusChecks(r *Repo, branch string, p *protection) map[string]any {
	base := c.apiURL(fmt.Sprintf("/repos/%s/branches/%s/protection/required_status_checks", r.FullName(), branch))
	contexts, checks := []any{}, []any{}
	level := "off"
	if p != nil {
		level = "non_admins"
		for _, rc := range p.checks {
			var app any
			if rc.appID != 0 {
				app = rc.appID
			}
			contexts = append(contexts, rc.context)
			checks = append(checks, map[string]any{"context": rc.context, "app_id": app})
		}
	}
	return map[string]any{"url": base, "contexts_url": base + "/contexts", "enforcement_level": level,
		"contexts": contexts, "checks": checks, "strict": p != nil && p.strict}
}

// getBranch answers a branch of the repository's refs with its commit and
// the summary of its protection; an unknown branch is 404, as on GitHub.
func getBranch(c *call) response {
	r := c.repo()
	name := c.param("branch")
	sha, ok := r.refs["heads/"+name]
	if !ok {
		return errorResponse(http.StatusNotFound, "Branch not found")
	}
	obj := c.object(http.StatusOK)
	self := c.apiURL(fmt.Sprintf("/repos/%s/branches/%s", r.FullName(), name))
	obj["name"] = name
	obj["commit"] = c.branchCommit(obj["commit"], r, sha)
	obj["_links"] = map[string]any{"self": self, "html": "https://github.com/" + r.FullName() + "/tree/" + name}
	p := r.protection[name]
	obj["protected"] = p != nil
	obj["protection"] = map[string]any{"enabled": p != nil, "required_status_checks": c.requiredStatusChecks(r, name, p)}
	obj["protection_url"] = self + "/protection"
	return response{status: http.StatusOK, body: obj}
}

// branchCommit fills the example's commit of a branch with sha (its message,
// tree and parents when the commit is known).
func (c *call) branchCommit(tmpl any, r *Repo, sha string) map[string]any {
	m, _ := clone(tmpl).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	gc := r.commits[sha]
	if gc == nil {
		gc = &GitCommit{SHA: sha, Tree: fakeSHA(r.FullName(), sha, "tree"), Message: "commit " + sha}
	}
	full := r.FullName()
	m["sha"], m["node_id"] = sha, "C_"+sha
	m["url"] = c.apiURL("/repos/" + full + "/commits/" + sha)
	m["html_url"] = "https://github.com/" + full + "/commit/" + sha
	m["comments_url"] = m["url"].(string) + "/comments"
	if inner, ok := m["commit"].(map[string]any); ok {
		inner["message"], inner["comment_count"] = gc.Message, 0
		inner["url"] = c.apiURL("/repos/" + full + "/git/commits/" + sha)
		inner["tree"] = map[string]any{"sha": gc.Tree, "url": c.apiURL("/repos/" + full + "/git/trees/" + gc.Tree)}
	}
	parents := []any{}
	for _, p := range gc.Parents {
		parents = append(parents, map[string]any{"sha": p, "url": c.apiURL("/repos/" + full + "/commits/" + p),
			"html_url": "https://github.com/" + full + "/commit/" + p})
	}
	m["parents"] = parents
	return m
}

// getStatusChecksProtection answers a protected branch's required status
// checks; 404 "Branch not protected" otherwise, as GitHub.
func getStatusChecksProtection(c *call) response {
	r := c.repo()
	name := c.param("branch")
	if _, ok := r.refs["heads/"+name]; !ok {
		return errorResponse(http.StatusNotFound, "Branch not found")
	}
	p := r.protection[name]
	if p == nil {
		return errorResponse(http.StatusNotFound, "Branch not protected")
	}
	if p.checks == nil {
		return errorResponse(http.StatusNotFound, "Required status checks not enabled")
	}
	return response{status: http.StatusOK, body: c.requiredStatusChecks(r, name, p)}
}
