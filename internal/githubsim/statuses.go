package githubsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// CommitStatus is a commit status (the Statuses API): anyone with write
// access may set any context, which is why a required check is better an
// App's check run.
type CommitStatus struct {
	ID          int64
	SHA         string
	Context     string
	State       string // error, failure, pending, success
	Description string
	TargetURL   string
	Creator     string // login
	Created     time.Time
}

// StatusCreator is who SetStatus posts as: a CI's bot.
const StatusCreator = "ci[bot]"

// SetStatus records a commit status on sha as StatusCreator and sends the
// real status payload.
func (s *Sim) SetStatus(repo, sha, context, state string) (guid string, status int) {
	return s.SetStatusAs(StatusCreator, repo, sha, context, state)
}

// SetStatusAs is SetStatus by login: the status's creator and the
// payload's sender.
func (s *Sim) SetStatusAs(login, repo, sha, context, state string) (guid string, status int) {
	s.mu.Lock()
	r := s.mustRepo(repo)
	st := &CommitStatus{ID: s.nextID(), SHA: sha, Context: context, State: state, Creator: login, Created: s.now()}
	r.statuses = append(r.statuses, st)
	body := s.statusEvent(r, st)
	s.mu.Unlock()
	return s.SendWebhook("status", body)
}

// Statuses returns the commit statuses set on sha, oldest first.
func (s *Sim) Statuses(repo, sha string) []CommitStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CommitStatus
	for _, st := range s.mustRepo(repo).statuses {
		if st.SHA == sha {
			out = append(out, *st)
		}
	}
	return out
}

// statusEvent is the real status payload for st (under the lock).
func (s *Sim) statusEvent(r *Repo, st *CommitStatus) []byte {
	p := from("status", "with-installation.payload.json")
	p["installation"] = map[string]any{"id": r.Installation, "node_id": "inst"}
	s.repoPart(p["repository"].(map[string]any), r)
	p["id"], p["sha"], p["name"], p["context"], p["state"] = st.ID, st.SHA, r.FullName(), st.Context, st.State
	p["description"], p["target_url"] = nullable(st.Description), nullable(st.TargetURL)
	p["created_at"], p["updated_at"] = stamp(st.Created), stamp(st.Created)
	p["sender"] = s.userObject(p["sender"], st.Creator)
	if cm, ok := p["commit"].(map[string]any); ok {
		u := s.srv.URL + "/repos/" + r.FullName() + "/commits/" + st.SHA
		cm["sha"], cm["url"], cm["comments_url"] = st.SHA, u, u+"/comments"
		cm["html_url"] = "https://github.com/" + r.FullName() + "/commit/" + st.SHA
	}
	branches := []any{}
	for _, b := range r.branchesAt(st.SHA) {
		branches = append(branches, map[string]any{"name": b, "protected": r.protection[b] != nil,
			"commit": map[string]any{"sha": st.SHA, "url": s.srv.URL + "/repos/" + r.FullName() + "/commits/" + st.SHA}})
	}
	p["branches"] = branches
	body, _ := json.Marshal(p)
	return body
}

func (r *Repo) branchesAt(sha string) []string {
	var out []string
	for ref, at := range r.refs {
		if b, ok := cutHeads(ref); ok && at == sha {
			out = append(out, b)
		}
	}
	sort.Strings(out)
	return out
}

// latestStatuses is the newest status of each context on sha (contexts
// compare case-insensitively, as GitHub's do), oldest first.
func (r *Repo) latestStatuses(sha string) []*CommitStatus {
	latest := map[string]*CommitStatus{}
	for _, st := range r.statuses {
		if st.SHA == sha {
			latest[strings.ToLower(st.Context)] = st
		}
	}
	out := make([]*CommitStatus, 0, len(latest))
	for _, st := range latest {
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// combinedState is GitHub's rule: failure if any context's latest is error
// or failure, else pending if there is none or one is pending, else success.
func combinedState(latest []*CommitStatus) string {
	has := func(states ...string) bool {
		return slices.ContainsFunc(latest, func(st *CommitStatus) bool { return slices.Contains(states, st.State) })
	}
	switch {
	case has("error", "failure"):
		return "failure"
	case len(latest) == 0 || has("pending"):
		return "pending"
	}
	return "success"
}

func (c *call) statusObject(tmpl map[string]any, r *Repo, st *CommitStatus) map[string]any {
	tmpl["url"] = c.apiURL("/repos/" + r.FullName() + "/statuses/" + st.SHA)
	tmpl["id"], tmpl["node_id"], tmpl["state"], tmpl["context"] = st.ID, fmt.Sprintf("SC_%d", st.ID), st.State, st.Context
	tmpl["description"], tmpl["target_url"] = nullable(st.Description), nullable(st.TargetURL)
	tmpl["created_at"], tmpl["updated_at"] = stamp(st.Created), stamp(st.Created)
	if _, ok := tmpl["creator"]; ok { // the combined status's items have none
		tmpl["creator"] = c.user(tmpl["creator"], st.Creator)
	}
	return tmpl
}

// getCombinedStatus answers the combined status of a commit (a branch name
// resolves to its head): each context's latest status and their state.
func getCombinedStatus(c *call) response {
	r := c.repo()
	sha := r.resolveRef(c.param("ref"))
	obj := c.object(http.StatusOK)
	tmpl := map[string]any{}
	if list, ok := obj["statuses"].([]any); ok && len(list) > 0 {
		tmpl = list[0].(map[string]any)
	}
	latest := r.latestStatuses(sha)
	items := []any{}
	for _, st := range latest {
		items = append(items, c.statusObject(clone(tmpl).(map[string]any), r, st))
	}
	obj["state"], obj["sha"] = combinedState(latest), sha
	if repo, ok := obj["repository"].(map[string]any); ok {
		obj["repository"] = c.repoObject(repo, r)
	}
	obj["commit_url"] = c.apiURL("/repos/" + r.FullName() + "/commits/" + sha)
	obj["url"] = obj["commit_url"].(string) + "/status"
	return c.pageIn(obj, "statuses", items)
}

// listStatuses lists every status of a commit, newest first.
func listStatuses(c *call) response {
	r := c.repo()
	sha := r.resolveRef(c.param("ref"))
	tmpl := c.item(http.StatusOK)
	items := []any{}
	for i := len(r.statuses) - 1; i >= 0; i-- {
		if st := r.statuses[i]; st.SHA == sha {
			items = append(items, c.statusObject(clone(tmpl).(map[string]any), r, st))
		}
	}
	return c.paginate(items)
}

// createStatus records a status posted with ferry's token (no event: the
// simulator sends webhooks only when a test asks).
func createStatus(c *call) response {
	r := c.repo()
	var in struct {
		State       string  `json:"state"`
		TargetURL   *string `json:"target_url"`
		Description *string `json:"description"`
		Context     string  `json:"context"`
	}
	c.decode(&in)
	sha := c.param("sha")
	if !r.knows(sha) {
		return validation("Status", "sha", "invalid", "No commit found for SHA: "+sha)
	}
	if in.Context == "" {
		in.Context = "default"
	}
	st := &CommitStatus{ID: c.sim.nextID(), SHA: sha, Context: in.Context, State: in.State, Creator: c.sim.BotLogin(), Created: c.sim.now()}
	if in.TargetURL != nil {
		st.TargetURL = *in.TargetURL
	}
	if in.Description != nil {
		st.Description = *in.Description
	}
	r.statuses = append(r.statuses, st)
	return created(c.statusObject(c.object(http.StatusCreated), r, st))
}

// knows reports whether sha is a commit the repository has: one made or
// added, a branch's head, or a pull request's head or base.
func (r *Repo) knows(sha string) bool {
	if _, ok := r.commits[sha]; ok {
		return true
	}
	for _, at := range r.refs {
		if at == sha {
			return true
		}
	}
	for _, p := range r.pulls {
		if p.HeadSHA == sha || p.BaseSHA == sha {
			return true
		}
	}
	return false
}
