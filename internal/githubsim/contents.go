package githubsim

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"path"
	"slices"
	"strings"
)

// getContent answers a file (JSON, or its raw bytes when the Accept header
// asks for the raw media type) or a directory's listing, at ref (default:
// the default branch).
func getContent(c *call) response {
	r := c.repo()
	ref := c.r.URL.Query().Get("ref")
	if ref == "" {
		ref = r.DefaultBranch
	}
	p := strings.Trim(c.param("path"), "/")
	if content, ok := r.files[ref][p]; ok {
		if accept := c.r.Header.Get("Accept"); strings.Contains(accept, ".raw") {
			// Not in the description (it lists JSON only): sent unchecked.
			media, _, _ := strings.Cut(accept, "+")
			return response{status: http.StatusOK, raw: []byte(content), contentType: media + "; charset=utf-8"}
		}
		return response{status: http.StatusOK, body: c.contentFile(r, ref, p, content, true)}
	}
	items := c.listing(r, ref, p)
	if len(items) == 0 {
		return errorResponse(http.StatusNotFound, "Not Found")
	}
	return response{status: http.StatusOK, body: items}
}

// contentFile is a file as the contents API shows it; withContent adds
// its bytes (base64), as a file's own answer does and a listing's items
// and a write's answer do not.
func (c *call) contentFile(r *Repo, ref, p, content string, withContent bool) map[string]any {
	sha := fakeSHA(content)
	obj := c.contentEntry(r, ref, p, "file", sha)
	obj["size"] = len(content)
	obj["download_url"] = "https://raw.githubusercontent.com/" + r.FullName() + "/" + ref + "/" + p
	if withContent {
		obj["encoding"], obj["content"] = "base64", base64.StdEncoding.EncodeToString([]byte(content))
	}
	return obj
}

func (c *call) contentEntry(r *Repo, ref, p, kind, sha string) map[string]any {
	self := c.apiURL("/repos/" + r.FullName() + "/contents/" + p + "?ref=" + ref)
	git := c.apiURL("/repos/" + r.FullName() + "/git/blobs/" + sha)
	html := "https://github.com/" + r.FullName() + "/blob/" + ref + "/" + p
	if kind == "dir" {
		git = c.apiURL("/repos/" + r.FullName() + "/git/trees/" + sha)
		html = "https://github.com/" + r.FullName() + "/tree/" + ref + "/" + p
	}
	return map[string]any{"type": kind, "name": path.Base(p), "path": p, "sha": sha, "size": 0,
		"url": self, "git_url": git, "html_url": html, "download_url": nil,
		"_links": map[string]any{"self": self, "git": git, "html": html}}
}

// listing is a directory's entries at ref ("" is the root): its files and
// the directories files lie in, by name.
func (c *call) listing(r *Repo, ref, dir string) []any {
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	entries := map[string]map[string]any{}
	for p, content := range r.files[ref] {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		if sub, _, nested := strings.Cut(rest, "/"); nested {
			entries[sub] = c.contentEntry(r, ref, prefix+sub, "dir", fakeSHA(ref, prefix+sub))
		} else {
			entries[rest] = c.contentFile(r, ref, p, content, false)
		}
	}
	items := []any{}
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		items = append(items, entries[name])
	}
	return items
}

type person struct {
	Name, Email, Date string
}

// putContent creates or replaces a file on a branch with a commit on top
// of the branch's head, as GitHub does: 201 for a new file, 200 for a
// changed one, whose blob sha the request must name.
func putContent(c *call) response {
	r := c.repo()
	var in struct {
		Message, Content, SHA, Branch string
		Committer, Author             *person
	}
	c.decode(&in)
	raw, err := base64.StdEncoding.DecodeString(in.Content)
	if err != nil {
		return validation("", "content", "invalid", "content is not valid Base64")
	}
	branch := in.Branch
	if branch == "" {
		branch = r.DefaultBranch
	}
	head, ok := r.refs["heads/"+branch]
	if !ok {
		return errorResponse(http.StatusNotFound, "Branch "+branch+" not found")
	}
	p := strings.Trim(c.param("path"), "/")
	old, exists := r.files[branch][p]
	switch {
	case exists && in.SHA == "":
		return validation("", "sha", "missing", `"sha" wasn't supplied.`)
	case exists && in.SHA != fakeSHA(old):
		return errorResponse(http.StatusConflict, fmt.Sprintf("%s does not match %s", p, in.SHA))
	}
	sha := c.commitFile(r, branch, head, p, string(raw), in.Message)
	status := http.StatusCreated
	if exists {
		status = http.StatusOK
	}
	obj := c.object(status)
	obj["content"] = c.contentFile(r, branch, p, string(raw), false)
	obj["commit"] = c.fileCommit(obj["commit"], r, r.commits[sha], in.Author, in.Committer)
	return response{status: status, body: obj}
}

// commitFile records a commit on branch (parent head) whose tree is the
// branch's files with p set, and moves the branch to it.
func (c *call) commitFile(r *Repo, branch, head, p, content, message string) string {
	files := maps.Clone(r.files[branch])
	if files == nil {
		files = map[string]string{}
	}
	files[p] = content
	sha := fakeSHA(r.FullName(), head, p, content, c.now())
	r.commits[sha] = &GitCommit{SHA: sha, Tree: fakeSHA(sha, "tree"), Parents: []string{head}, Message: message}
	r.refs["heads/"+branch] = sha
	r.files[branch], r.files[sha] = files, maps.Clone(files)
	return sha
}

// fileCommit fills a copy of the example's commit of a contents write.
func (c *call) fileCommit(tmpl any, r *Repo, gc *GitCommit, author, committer *person) map[string]any {
	m, _ := clone(tmpl).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	m = c.gitCommitObject(m, r, gc)
	m["node_id"] = "C_" + gc.SHA
	m["html_url"] = "https://github.com/" + r.FullName() + "/commit/" + gc.SHA
	bot := person{Name: c.sim.BotLogin(), Email: fmt.Sprintf("%d+%s@users.noreply.github.com", fakeID(c.sim.BotLogin()), c.sim.BotLogin()), Date: c.now()}
	if committer == nil {
		committer = &bot
	}
	if author == nil {
		author = committer
	}
	for key, who := range map[string]*person{"author": author, "committer": committer} {
		date := who.Date
		if date == "" {
			date = c.now()
		}
		m[key] = map[string]any{"name": who.Name, "email": who.Email, "date": date}
	}
	m["verification"] = map[string]any{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil}
	return m
}
