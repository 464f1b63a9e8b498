package githubsim

import (
	"encoding/json"
	"fmt"
	"time"

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
	return s.SendWebhook("installation", s.InstallationPayload(id))
}

// InstallationPayload is installation.created for an installation the
// test added, listing its repositories.
func (s *Sim) InstallationPayload(id int64) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
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
	return body
}

// OpenPullRequest sends pull_request.opened for a pull request the test
// added with AddPullRequest; its sender is the pull request's author.
func (s *Sim) OpenPullRequest(repo string, number int) (guid string, status int) {
	s.mu.Lock()
	body := s.pullRequestEvent("opened", repo, number, "", nil)
	s.mu.Unlock()
	return s.SendWebhook("pull_request", body)
}

// PushToPullRequest moves a pull request's head to headSHA with these
// files and commits (the whole PR's, as GitHub lists them) and sends
// pull_request.synchronize with before and after, as pushed by the pull
// request's author.
func (s *Sim) PushToPullRequest(repo string, number int, headSHA string, files []File, commits []Commit) (guid string, status int) {
	return s.PushToPullRequestAs("", repo, number, headSHA, files, commits)
}

// PushToPullRequestAs is PushToPullRequest pushed by login: the
// synchronize payload's sender ("" = the pull request's author).
func (s *Sim) PushToPullRequestAs(login, repo string, number int, headSHA string, files []File, commits []Commit) (guid string, status int) {
	before := s.SetPullRequestHead(repo, number, headSHA, files, commits)
	s.mu.Lock()
	body := s.pullRequestEvent("synchronize", repo, number, login, map[string]any{"before": before, "after": headSHA})
	s.mu.Unlock()
	return s.SendWebhook("pull_request", body)
}

// SetPullRequestHead moves a pull request's head without sending an event
// and returns the head it had.
func (s *Sim) SetPullRequestHead(repo string, number int, headSHA string, files []File, commits []Commit) (before string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.mustRepo(repo).pulls[number]
	before = pr.HeadSHA
	pr.HeadSHA, pr.Files, pr.Commits, pr.Updated = headSHA, files, commits, s.now()
	return before
}

// PullRequestPayload is the real pull_request payload (opened,
// synchronize or closed) for the simulator's state of a pull request,
// unsent; its sender is the author (closed: who merged it, if merged).
func (s *Sim) PullRequestPayload(action, repo string, number int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pullRequestEvent(action, repo, number, "", nil)
}

// pullRequestEvent is a real pull_request payload for action, filled with
// the simulator's state of the pull request and sent by sender ("" = the
// author, or who merged it) (under the lock).
func (s *Sim) pullRequestEvent(action, repo string, number int, sender string, extra map[string]any) []byte {
	r := s.mustRepo(repo)
	pr, ok := r.pulls[number]
	if !ok {
		s.t.Fatalf("githubsim: no pull request %s#%d", repo, number)
	}
	p := from("pull_request", action+".payload.json")
	p["number"] = number
	p["installation"] = map[string]any{"id": r.Installation, "node_id": "inst"}
	repoObj := s.repoPart(p["repository"].(map[string]any), r)
	pull := p["pull_request"].(map[string]any)
	pull["number"], pull["title"], pull["body"], pull["id"], pull["state"] = number, pr.Title, pr.Body, pr.ID, pr.State
	pull["created_at"], pull["updated_at"] = stamp(pr.Created), stamp(pr.Updated)
	pull["user"] = s.userObject(pull["user"], pr.User)
	s.mergeState(pull, pr)
	switch {
	case sender != "":
	case pr.Merged:
		sender = pr.MergedBy
	default:
		sender = pr.User
	}
	p["sender"] = s.userObject(p["sender"], sender)
	labels := []any{}
	for _, l := range r.labels[number] {
		labels = append(labels, s.labelObject(r, r.ensureLabel(l)))
	}
	pull["labels"] = labels
	for _, side := range []struct{ key, ref, sha string }{{"head", pr.Head, pr.HeadSHA}, {"base", pr.Base, pr.BaseSHA}} {
		m := pull[side.key].(map[string]any)
		m["ref"], m["sha"], m["label"] = side.ref, side.sha, r.Owner+":"+side.ref
		m["repo"] = repoObj
		if side.key == "head" && pr.HeadRepo != "" {
			fork := clone(repoObj).(map[string]any)
			forkOf(fork, pr.HeadRepo)
			m["repo"] = fork
		}
	}
	for k, v := range extra {
		p[k] = v
	}
	body, _ := json.Marshal(p)
	return body
}

func (s *Sim) repoPart(repoObj map[string]any, r *Repo) map[string]any {
	repoObj["id"], repoObj["name"], repoObj["full_name"], repoObj["default_branch"] = r.ID, r.Name, r.FullName(), r.DefaultBranch
	repoObj["owner"].(map[string]any)["login"] = r.Owner
	repoObj["html_url"] = "https://github.com/" + r.FullName()
	// The simulator's git endpoint always, as GitHub's clone URL is always
	// GitHub's: a repository it does not serve answers 404 at once, where
	// the fixture's github.com would wait on a DNS timeout here.
	repoObj["clone_url"] = s.CloneURL(r.FullName())
	return repoObj
}

// PushCommit is a commit as a push event lists it.
type PushCommit struct {
	SHA, Message, Author     string
	Added, Removed, Modified []string
}

// Push moves a branch from before to after and sends the push event (a real
// payload with these commits). Tests that want ferry to read the change
// also call AddComparison(before, after).
func (s *Sim) Push(repo, branch, before, after string, commits []PushCommit) (guid string, status int) {
	s.mu.Lock()
	r := s.mustRepo(repo)
	r.refs["heads/"+branch] = after
	p := from("push", "with-new-branch.payload.json")
	p["ref"], p["before"], p["after"], p["created"], p["deleted"], p["forced"] = "refs/heads/"+branch, before, after, false, false, false
	p["base_ref"] = nil
	p["installation"] = map[string]any{"id": r.Installation, "node_id": "inst"}
	s.repoPart(p["repository"].(map[string]any), r)
	tmpl := p["commits"].([]any)[0].(map[string]any)
	var list []any
	for _, c := range commits {
		m := clone(tmpl).(map[string]any)
		m["id"], m["tree_id"], m["message"], m["timestamp"] = c.SHA, fakeSHA(c.SHA, "tree"), c.Message, s.now().UTC().Format(time.RFC3339)
		m["author"].(map[string]any)["name"], m["author"].(map[string]any)["username"] = c.Author, c.Author
		m["added"], m["removed"], m["modified"] = nonNil(c.Added), nonNil(c.Removed), nonNil(c.Modified)
		list = append(list, m)
	}
	p["commits"] = list
	p["head_commit"] = nil
	if len(list) > 0 {
		p["head_commit"] = list[len(list)-1]
	}
	body, _ := json.Marshal(p)
	s.mu.Unlock()
	return s.SendWebhook("push", body)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// CommentPayload is a real issue_comment payload (action created or
// edited) for a comment the test added with AddComment; as a bot when login
// ends in [bot].
func (s *Sim) CommentPayload(action, repo string, commentID int64) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	var cm *Comment
	for _, c := range r.comments {
		if c.ID == commentID {
			cm = c
		}
	}
	if cm == nil {
		s.t.Fatalf("githubsim: no comment %d", commentID)
	}
	p := from("issue_comment", "created.payload.json")
	if action == "edited" {
		p = from("issue_comment", "edited.payload.json")
	}
	p["installation"] = map[string]any{"id": r.Installation, "node_id": "inst"}
	s.repoPart(p["repository"].(map[string]any), r)
	issue := p["issue"].(map[string]any)
	issue["number"] = cm.Number
	if _, isPR := r.pulls[cm.Number]; isPR {
		issue["pull_request"] = map[string]any{"url": fmt.Sprintf("%s/repos/%s/pulls/%d", s.srv.URL, repo, cm.Number),
			"html_url": "", "diff_url": "", "patch_url": ""}
	} else {
		delete(issue, "pull_request")
	}
	comment := p["comment"].(map[string]any)
	comment["id"], comment["body"] = cm.ID, cm.Body
	comment["created_at"], comment["updated_at"] = stamp(cm.Created), stamp(cm.Updated)
	comment["user"] = s.userObject(comment["user"], cm.User) // a Bot when login ends in [bot]
	p["sender"] = s.userObject(p["sender"], cm.User)
	body, _ := json.Marshal(p)
	return body
}

// Comment adds a comment as login and sends issue_comment.created.
func (s *Sim) Comment(repo string, number int, login, body string) (commentID int64, guid string, status int) {
	id := s.AddComment(repo, number, login, body)
	guid, status = s.SendWebhook("issue_comment", s.CommentPayload("created", repo, id))
	return id, guid, status
}

// ButtonPayload is a real check_run requested_action payload: login
// pressed the button identifier on a check run ferry created.
func (s *Sim) ButtonPayload(repo string, checkRunID int64, identifier, login string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	var cr *CheckRun
	for _, c := range r.checkRuns {
		if c.ID == checkRunID {
			cr = c
		}
	}
	if cr == nil {
		s.t.Fatalf("githubsim: no check run %d", checkRunID)
	}
	p := from("check_run", "requested_action.payload.json")
	p["installation"] = map[string]any{"id": r.Installation, "node_id": "inst"}
	s.repoPart(p["repository"].(map[string]any), r)
	run := p["check_run"].(map[string]any)
	run["id"], run["name"], run["head_sha"], run["external_id"] = cr.ID, cr.Name, cr.HeadSHA, cr.ExternalID
	run["pull_requests"] = s.prRefs(r, cr.HeadSHA, "") // GitHub lists none for forks
	run["app"] = s.appObject(run["app"], s.integration(cr.App))
	if suite, ok := run["check_suite"].(map[string]any); ok {
		for _, cs := range r.suites {
			if cs.ID == cr.SuiteID {
				s.fillSuite(suite, r, cs)
			}
		}
	}
	p["requested_action"] = map[string]any{"identifier": identifier}
	p["sender"] = s.userObject(p["sender"], login)
	body, _ := json.Marshal(p)
	return body
}

// PressButton sends check_run requested_action.
func (s *Sim) PressButton(repo string, checkRunID int64, identifier, login string) (guid string, status int) {
	return s.SendWebhook("check_run", s.ButtonPayload(repo, checkRunID, identifier, login))
}
