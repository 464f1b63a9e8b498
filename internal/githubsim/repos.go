package githubsim

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

func (c *call) repoObject(tmpl map[string]any, r *Repo) map[string]any {
	tmpl["id"] = int(r.ID)
	tmpl["name"] = r.Name
	tmpl["full_name"] = r.FullName()
	tmpl["private"] = r.Private
	tmpl["default_branch"] = r.DefaultBranch
	tmpl["url"] = c.apiURL("/repos/" + r.FullName())
	tmpl["html_url"] = "https://github.com/" + r.FullName()
	tmpl["clone_url"] = c.sim.CloneURL(r.FullName()) // where ServeGit serves it (404 when it does not)
	// Sent by GitHub (the recorded exchanges show them) though optional in
	// the description and absent from its example.
	for _, k := range []string{"allow_update_branch", "use_squash_pr_title_as_default", "web_commit_signoff_required"} {
		if _, ok := tmpl[k]; !ok {
			tmpl[k] = false
		}
	}
	tmpl["permissions"] = map[string]any{"admin": false, "maintain": false, "push": true, "triage": true, "pull": true}
	// Not a fork (forkOf makes one) and no language detected: the example's
	// parent and source describe a fork GitHub sends only for forks.
	tmpl["fork"], tmpl["language"] = false, nil
	delete(tmpl, "parent")
	delete(tmpl, "source")
	if owner, ok := tmpl["owner"]; ok {
		o := c.user(owner, r.Owner)
		o["type"] = "Organization"
		tmpl["owner"] = o
	}
	return tmpl
}

func getRepo(c *call) response {
	r := c.repo()
	return response{status: http.StatusOK, body: c.repoObject(c.object(200), r)}
}

// maxPRFiles is GitHub's cap on the files the API lists for a pull request.
const maxPRFiles = 3000

func (c *call) pull(r *Repo) *PullRequest {
	p, ok := r.pulls[int(c.intParam("pull_number"))]
	if !ok {
		c.notFound()
	}
	return p
}

func (c *call) fileItems(files []File) []any {
	tmpl := c.item(200)
	var items []any
	for i, f := range files {
		if i == maxPRFiles {
			break
		}
		it := clone(tmpl).(map[string]any)
		it["filename"], it["status"] = f.Filename, f.Status
		it["additions"], it["deletions"], it["changes"] = f.Additions, f.Deletions, f.Additions+f.Deletions
		it["sha"] = fakeSHA(f.Filename, f.Patch)
		if f.Patch != "" {
			it["patch"] = f.Patch
		} else {
			delete(it, "patch")
		}
		if f.Status != "renamed" {
			delete(it, "previous_filename")
		}
		items = append(items, it)
	}
	return items
}

func listPRFiles(c *call) response {
	r := c.repo()
	p := c.pull(r)
	return c.paginate(c.fileItems(p.Files))
}

func (c *call) commitItem(tmpl map[string]any, r *Repo, cm Commit) map[string]any {
	it := clone(tmpl).(map[string]any)
	it["sha"] = cm.SHA
	it["url"] = c.apiURL("/repos/" + r.FullName() + "/commits/" + cm.SHA)
	inner, _ := it["commit"].(map[string]any)
	if inner != nil {
		inner["message"] = cm.Message
		for _, who := range []string{"author", "committer"} {
			if a, ok := inner[who].(map[string]any); ok {
				a["name"] = cm.Author
				a["date"] = cm.Date.UTC().Format("2006-01-02T15:04:05Z")
			}
		}
	}
	for _, who := range []string{"author", "committer"} {
		if it[who] != nil {
			it[who] = c.user(it[who], cm.Author)
		}
	}
	delete(it, "files")
	return it
}

func listPRCommits(c *call) response {
	r := c.repo()
	p := c.pull(r)
	tmpl := c.item(200)
	var items []any
	for _, cm := range p.Commits {
		items = append(items, c.commitItem(tmpl, r, cm))
	}
	return c.paginate(items)
}

// compare finds the pull request whose base and head match the two sides
// (branch names or SHAs) and reports its commits and files.
func compare(c *call) response {
	r := c.repo()
	base, head, ok := strings.Cut(c.param("basehead"), "...")
	if !ok {
		return errorResponse(http.StatusNotFound, "Not Found")
	}
	pr := r.compares[base+"..."+head]
	for _, p := range r.pulls {
		if (base == p.Base || base == p.BaseSHA) && (head == p.Head || head == p.HeadSHA) {
			pr = p
		}
	}
	if pr == nil {
		return errorResponse(http.StatusNotFound, fmt.Sprintf("No common ancestor between %s and %s.", base, head))
	}
	obj := c.object(200)
	commitTmpl := map[string]any{}
	if list, ok := obj["commits"].([]any); ok && len(list) > 0 {
		commitTmpl = list[0].(map[string]any)
	}
	commits := []any{}
	for _, cm := range pr.Commits {
		commits = append(commits, c.commitItem(commitTmpl, r, cm))
	}
	files := []any{}
	if list, ok := obj["files"].([]any); ok && len(list) > 0 {
		for i, f := range pr.Files {
			it := clone(list[0]).(map[string]any)
			it["filename"], it["status"] = f.Filename, f.Status
			it["additions"], it["deletions"], it["changes"] = f.Additions, f.Deletions, f.Additions+f.Deletions
			it["patch"] = f.Patch
			delete(it, "previous_filename")
			files = append(files, it)
			if i+1 == 300 { // compare lists at most 300 files
				break
			}
		}
	}
	obj["commits"], obj["files"] = commits, files
	obj["status"], obj["ahead_by"], obj["behind_by"], obj["total_commits"] = "ahead", len(commits), 0, len(commits)
	return response{status: http.StatusOK, body: obj}
}

func (c *call) pullObject(tmpl map[string]any, r *Repo, p *PullRequest) map[string]any {
	tmpl["id"], tmpl["number"] = int(p.ID), p.Number
	tmpl["title"], tmpl["body"], tmpl["state"] = p.Title, p.Body, p.State
	tmpl["url"] = c.apiURL(fmt.Sprintf("/repos/%s/pulls/%d", r.FullName(), p.Number))
	tmpl["html_url"] = fmt.Sprintf("https://github.com/%s/pull/%d", r.FullName(), p.Number)
	tmpl["user"] = c.user(tmpl["user"], p.User)
	tmpl["created_at"] = p.Created.UTC().Format("2006-01-02T15:04:05Z")
	tmpl["updated_at"] = p.Updated.UTC().Format("2006-01-02T15:04:05Z")
	c.sim.mergeState(tmpl, p)
	// Review requests are not modelled: none, rather than the example's.
	tmpl["requested_reviewers"], tmpl["requested_teams"] = []any{}, []any{}
	labels := []any{} // the pull request's own, not the example's
	for _, l := range r.labels[p.Number] {
		labels = append(labels, c.sim.labelObject(r, r.ensureLabel(l)))
	}
	tmpl["labels"] = labels
	for _, side := range []struct{ name, ref, sha string }{{"head", p.Head, p.HeadSHA}, {"base", p.Base, p.BaseSHA}} {
		if m, ok := tmpl[side.name].(map[string]any); ok {
			m["ref"], m["sha"], m["label"] = side.ref, side.sha, r.Owner+":"+side.ref
			if repo, ok := m["repo"].(map[string]any); ok {
				m["repo"] = c.repoObject(repo, r)
				if side.name == "head" && p.HeadRepo != "" {
					forkOf(m["repo"].(map[string]any), p.HeadRepo)
				}
			}
		}
	}
	return tmpl
}

// forkOf turns a copy of the base repository's object into its fork's.
func forkOf(repo map[string]any, fullName string) {
	owner, name, _ := strings.Cut(fullName, "/")
	repo["id"], repo["name"], repo["full_name"], repo["fork"] = int(fakeID(fullName)), name, fullName, true
	repo["html_url"] = "https://github.com/" + fullName
	if o, ok := repo["owner"].(map[string]any); ok {
		o = clone(o).(map[string]any)
		o["login"], o["id"], o["type"] = owner, int(fakeID(owner)), "User"
		repo["owner"] = o
	}
}

func getPull(c *call) response {
	r := c.repo()
	return response{status: http.StatusOK, body: c.pullObject(c.object(200), r, c.pull(r))}
}

func listPulls(c *call) response {
	r := c.repo()
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var nums []int
	for n := range r.pulls {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	tmpl := c.item(200)
	var items []any
	for _, n := range nums {
		p := r.pulls[n]
		if (state != "all" && p.State != state) || (q.Get("base") != "" && p.Base != q.Get("base")) {
			continue
		}
		if h := q.Get("head"); h != "" && h != r.Owner+":"+p.Head && h != p.Head {
			continue
		}
		items = append(items, c.pullObject(clone(tmpl).(map[string]any), r, p))
	}
	return c.paginate(items)
}

func createPull(c *call) response {
	r := c.repo()
	var in struct{ Title, Head, Base, Body string }
	c.decode(&in)
	head := in.Head
	if _, branch, ok := strings.Cut(head, ":"); ok {
		head = branch
	}
	sha, ok := r.refs["heads/"+head]
	if !ok {
		return validation("PullRequest", "head", "invalid", "")
	}
	for _, p := range r.pulls {
		if p.State == "open" && p.Head == head && p.Base == in.Base {
			return validation("PullRequest", "", "custom", fmt.Sprintf("A pull request already exists for %s:%s.", r.Owner, head))
		}
	}
	p := &PullRequest{Number: r.nextNumber, Title: in.Title, Body: in.Body, User: c.sim.BotLogin(), State: "open",
		Head: head, HeadSHA: sha, Base: in.Base, BaseSHA: r.refs["heads/"+in.Base], ID: c.sim.nextID(), Created: c.sim.now()}
	r.nextNumber++
	r.pulls[p.Number] = p
	return created(c.pullObject(c.object(201), r, p))
}

func updatePull(c *call) response {
	r := c.repo()
	p := c.pull(r)
	var in struct{ Title, Body, State, Base *string }
	c.decode(&in)
	was := p.State
	for dst, src := range map[*string]*string{&p.Title: in.Title, &p.Body: in.Body, &p.State: in.State, &p.Base: in.Base} {
		if src != nil {
			*dst = *src
		}
	}
	switch {
	case was == "open" && p.State == "closed":
		p.Closed = c.sim.now()
	case p.State == "open":
		p.Closed = time.Time{}
	}
	if h, ok := r.refs["heads/"+p.Head]; ok {
		p.HeadSHA = h
	}
	return response{status: http.StatusOK, body: c.pullObject(c.object(200), r, p)}
}
