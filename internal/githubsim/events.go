package githubsim

import (
	"encoding/json"
	"fmt"

	"github.com/ferry-ci/ferry/internal/fixture"
)

// SendFixture posts a real example payload (octokit/webhooks) as is.
func (s *Sim) SendFixture(event, name string) (guid string, status int) {
	return s.SendWebhook(event, fixture.Payload(event, name))
}

// from starts from a real payload so every field GitHub sends is there.
func from(event, name string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(fixture.Payload(event, name), &m); err != nil {
		panic(err) // embedded fixtures are valid JSON
	}
	return m
}

func (s *Sim) installationPart(id int64) map[string]any {
	in := s.installations[id]
	return map[string]any{"id": in.ID, "node_id": fmt.Sprintf("MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u%d", in.ID),
		"account": map[string]any{"login": in.Account, "id": fakeID(in.Account), "type": "Organization"}}
}

// InstallationCreated sends installation.created for an installation the
// test has set up, listing its repositories.
func (s *Sim) InstallationCreated(id int64) (guid string, status int) {
	s.mu.Lock()
	p := from("installation", "created.payload.json")
	inst := s.installations[id]
	full := p["installation"].(map[string]any)
	for k, v := range s.installationPart(id) {
		full[k] = v
	}
	full["app_id"], full["repository_selection"] = s.cfg.AppID, "selected"
	var repos []any
	for _, name := range inst.Repos {
		r := s.repos[name]
		repos = append(repos, map[string]any{"id": r.ID, "node_id": "R_" + fmt.Sprint(r.ID), "name": r.Name,
			"full_name": r.FullName(), "private": r.Private})
	}
	p["repositories"] = repos
	body, _ := json.Marshal(p)
	s.mu.Unlock()
	return s.SendWebhook("installation", body)
}

// OpenPullRequest sends pull_request.opened for a pull request the test
// added with AddPullRequest.
func (s *Sim) OpenPullRequest(repo string, number int) (guid string, status int) {
	s.mu.Lock()
	r := s.mustRepo(repo)
	pr := r.pulls[number]
	p := from("pull_request", "opened.payload.json")
	p["number"] = number
	p["installation"] = map[string]any{"id": r.Installation, "node_id": "inst"}
	repoObj := p["repository"].(map[string]any)
	repoObj["id"], repoObj["name"], repoObj["full_name"], repoObj["default_branch"] = r.ID, r.Name, r.FullName(), r.DefaultBranch
	repoObj["owner"].(map[string]any)["login"] = r.Owner
	pull := p["pull_request"].(map[string]any)
	pull["number"], pull["title"], pull["body"], pull["id"], pull["state"] = number, pr.Title, pr.Body, pr.ID, "open"
	pull["user"].(map[string]any)["login"] = pr.User
	for _, side := range []struct{ key, ref, sha string }{{"head", pr.Head, pr.HeadSHA}, {"base", pr.Base, pr.BaseSHA}} {
		m := pull[side.key].(map[string]any)
		m["ref"], m["sha"], m["label"] = side.ref, side.sha, r.Owner+":"+side.ref
		m["repo"] = repoObj
	}
	body, _ := json.Marshal(p)
	s.mu.Unlock()
	return s.SendWebhook("pull_request", body)
}
