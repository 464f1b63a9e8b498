package githubsim

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// protectionInput is a branch protection rule as PUT sends it. The
// simulator models required status checks and enforce_admins; a rule
// asking for more (reviews, push restrictions, linear history…) is a test
// relying on what the simulator does not do, reported as its bug.
type protectionInput struct {
	RequiredStatusChecks *struct {
		Strict   bool     `json:"strict"`
		Contexts []string `json:"contexts"`
		Checks   []struct {
			Context string `json:"context"`
			AppID   *int64 `json:"app_id"`
		} `json:"checks"`
	} `json:"required_status_checks"`
	EnforceAdmins              *bool           `json:"enforce_admins"`
	RequiredPullRequestReviews json.RawMessage `json:"required_pull_request_reviews"`
	Restrictions               json.RawMessage `json:"restrictions"`
}

// unmodelled are the rule's other settings, each off unless set true.
var unmodelled = []string{"required_linear_history", "allow_force_pushes", "allow_deletions", "block_creations",
	"required_conversation_resolution", "lock_branch", "allow_fork_syncing"}

func (in protectionInput) rule() *protection {
	p := &protection{enforceAdmins: in.EnforceAdmins != nil && *in.EnforceAdmins}
	if rsc := in.RequiredStatusChecks; rsc != nil {
		p.checks, p.strict = []requiredCheck{}, rsc.Strict
		for _, ctx := range rsc.Contexts {
			p.checks = append(p.checks, requiredCheck{context: ctx})
		}
		for _, ch := range rsc.Checks {
			rc := requiredCheck{context: ch.Context}
			if ch.AppID != nil && *ch.AppID > 0 { // -1 or absent: any source
				rc.appID = *ch.AppID
			}
			p.checks = append(p.checks, rc)
		}
	}
	return p
}

// protectionObject is a protected branch's rule as GitHub answers it: the
// modelled parts from state, the others off.
func (c *call) protectionObject(r *Repo, branch string, p *protection) map[string]any {
	base := c.apiURL(fmt.Sprintf("/repos/%s/branches/%s/protection", r.FullName(), branch))
	obj := map[string]any{
		"url":                 base,
		"required_signatures": map[string]any{"url": base + "/required_signatures", "enabled": false},
		"enforce_admins":      map[string]any{"url": base + "/enforce_admins", "enabled": p.enforceAdmins},
	}
	for _, k := range unmodelled {
		obj[k] = map[string]any{"enabled": false}
	}
	if p.checks != nil {
		rsc := c.requiredStatusChecks(r, branch, p)
		delete(rsc, "enforcement_level") // only the branch summary carries it
		obj["required_status_checks"] = rsc
	}
	return obj
}

// getBranchProtection answers a protected branch's rule; 404 "Branch not
// protected" otherwise, as GitHub.
func getBranchProtection(c *call) response {
	r := c.repo()
	name := c.param("branch")
	if _, ok := r.refs["heads/"+name]; !ok {
		return errorResponse(http.StatusNotFound, "Branch not found")
	}
	p := r.protection[name]
	if p == nil {
		return errorResponse(http.StatusNotFound, "Branch not protected")
	}
	return response{status: http.StatusOK, body: c.protectionObject(r, name, p)}
}

// updateBranchProtection replaces a branch's rule.
func updateBranchProtection(c *call) response {
	r := c.repo()
	name := c.param("branch")
	if _, ok := r.refs["heads/"+name]; !ok {
		return errorResponse(http.StatusNotFound, "Branch not found")
	}
	var in protectionInput
	c.decode(&in)
	var flags map[string]any
	c.decode(&flags)
	for _, k := range unmodelled {
		if on, _ := flags[k].(bool); on {
			panic(simBug("branch protection " + k + " is not simulated"))
		}
	}
	for k, raw := range map[string]json.RawMessage{"required_pull_request_reviews": in.RequiredPullRequestReviews, "restrictions": in.Restrictions} {
		if len(raw) > 0 && string(raw) != "null" {
			panic(simBug("branch protection " + k + " is not simulated"))
		}
	}
	p := in.rule()
	r.protection[name] = p
	return response{status: http.StatusOK, body: c.protectionObject(r, name, p)}
}

func deleteBranchProtection(c *call) response {
	r := c.repo()
	name := c.param("branch")
	if r.protection[name] == nil {
		return errorResponse(http.StatusNotFound, "Branch not protected")
	}
	delete(r.protection, name)
	return response{status: http.StatusNoContent}
}
