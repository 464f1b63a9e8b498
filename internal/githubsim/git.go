package githubsim

import (
	"fmt"
	"net/http"
	"strings"
)

func (c *call) refObject(tmpl map[string]any, r *Repo, ref, sha string) map[string]any {
	tmpl["ref"] = "refs/" + ref
	tmpl["url"] = c.apiURL("/repos/" + r.FullName() + "/git/refs/" + ref)
	tmpl["object"] = map[string]any{"sha": sha, "type": "commit", "url": c.apiURL("/repos/" + r.FullName() + "/git/commits/" + sha)}
	return tmpl
}

func getRef(c *call) response {
	r := c.repo()
	ref := c.param("ref")
	sha, ok := r.refs[ref]
	if !ok {
		return errorResponse(http.StatusNotFound, "Not Found")
	}
	return response{status: http.StatusOK, body: c.refObject(c.object(200), r, ref, sha)}
}

func (c *call) gitCommitObject(tmpl map[string]any, r *Repo, gc *GitCommit) map[string]any {
	tmpl["sha"], tmpl["message"] = gc.SHA, gc.Message
	tmpl["url"] = c.apiURL("/repos/" + r.FullName() + "/git/commits/" + gc.SHA)
	tmpl["tree"] = map[string]any{"sha": gc.Tree, "url": c.apiURL("/repos/" + r.FullName() + "/git/trees/" + gc.Tree)}
	parents := []any{}
	for _, p := range gc.Parents {
		parents = append(parents, map[string]any{"sha": p, "url": c.apiURL("/repos/" + r.FullName() + "/git/commits/" + p),
			"html_url": "https://github.com/" + r.FullName() + "/commit/" + p})
	}
	tmpl["parents"] = parents
	return tmpl
}

func getGitCommit(c *call) response {
	r := c.repo()
	gc, ok := r.commits[c.param("commit_sha")]
	if !ok {
		return errorResponse(http.StatusNotFound, "Not Found")
	}
	return response{status: http.StatusOK, body: c.gitCommitObject(c.object(200), r, gc)}
}

func createTree(c *call) response {
	r := c.repo()
	var in struct {
		BaseTree string      `json:"base_tree"`
		Tree     []TreeEntry `json:"tree"`
	}
	c.decode(&in)
	entries := map[string]TreeEntry{}
	if in.BaseTree != "" {
		base, ok := r.trees[in.BaseTree]
		if !ok && !strings.HasSuffix(r.commits[r.refs["heads/"+r.DefaultBranch]].Tree, in.BaseTree) {
			return validation("Tree", "base_tree", "invalid", "base_tree is not a valid tree")
		}
		for _, e := range base {
			entries[e.Path] = e
		}
	}
	for _, e := range in.Tree {
		if e.SHA == "" {
			e.SHA = fakeSHA(e.Content)
		}
		entries[e.Path] = e
	}
	var tree []TreeEntry
	var items []any
	for _, e := range entries {
		tree = append(tree, e)
		items = append(items, map[string]any{"path": e.Path, "mode": e.Mode, "type": e.Type, "sha": e.SHA, "size": len(e.Content),
			"url": c.apiURL("/repos/" + r.FullName() + "/git/blobs/" + e.SHA)})
	}
	sha := fakeSHA(fmt.Sprint(items))
	r.trees[sha] = tree
	obj := c.object(201)
	obj["sha"], obj["tree"], obj["truncated"] = sha, items, false
	obj["url"] = c.apiURL("/repos/" + r.FullName() + "/git/trees/" + sha)
	return created(obj)
}

func createGitCommit(c *call) response {
	r := c.repo()
	var in struct {
		Message string
		Tree    string
		Parents []string
	}
	c.decode(&in)
	if _, ok := r.trees[in.Tree]; !ok {
		return validation("Commit", "tree", "invalid", "Tree SHA does not exist")
	}
	for _, p := range in.Parents {
		if _, ok := r.commits[p]; !ok {
			return validation("Commit", "parents", "invalid", "Parent SHA does not exist or is not a commit object")
		}
	}
	gc := &GitCommit{SHA: fakeSHA(in.Message, in.Tree, strings.Join(in.Parents, ","), c.now()), Tree: in.Tree, Parents: in.Parents, Message: in.Message}
	r.commits[gc.SHA] = gc
	return created(c.gitCommitObject(c.object(201), r, gc))
}

func createRef(c *call) response {
	r := c.repo()
	var in struct{ Ref, SHA string }
	c.decode(&in)
	ref, ok := strings.CutPrefix(in.Ref, "refs/")
	if !ok || strings.Count(in.Ref, "/") < 2 {
		return validation("Reference", "ref", "invalid", "Reference name must start with 'refs/' and have at least two slashes.")
	}
	if _, exists := r.refs[ref]; exists {
		return validation("Reference", "ref", "already_exists", "Reference already exists")
	}
	if _, ok := r.commits[in.SHA]; !ok {
		return validation("Reference", "sha", "invalid", "Object does not exist")
	}
	r.refs[ref] = in.SHA
	return created(c.refObject(c.object(201), r, ref, in.SHA))
}

func updateRef(c *call) response {
	r := c.repo()
	ref := c.param("ref")
	old, ok := r.refs[ref]
	if !ok {
		return validation("Reference", "ref", "invalid", "Reference does not exist")
	}
	var in struct {
		SHA   string
		Force bool
	}
	c.decode(&in)
	if _, ok := r.commits[in.SHA]; !ok {
		return validation("Reference", "sha", "invalid", "Object does not exist")
	}
	// GitHub's fast-forward check without force, where the simulator knows
	// the ancestry (the recorded git-refs exchange moves a branch between
	// commits whose parents are not known, and gets 200).
	if !in.Force && old != in.SHA && descends(r, in.SHA, old) == ancestryNo {
		return validation("Reference", "sha", "custom", "Update is not a fast forward")
	}
	r.refs[ref] = in.SHA
	return response{status: http.StatusOK, body: c.refObject(c.object(200), r, ref, in.SHA)}
}

type ancestry int

const (
	ancestryUnknown ancestry = iota // a commit on the way is not known
	ancestryYes
	ancestryNo
)

// descends tells whether sha has ancestor among its ancestors (or is it).
func descends(r *Repo, sha, ancestor string) ancestry {
	seen := map[string]bool{}
	queue := []string{sha}
	unknown := false
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == ancestor {
			return ancestryYes
		}
		if seen[c] {
			continue
		}
		seen[c] = true
		gc, ok := r.commits[c]
		if !ok || len(gc.Parents) == 0 {
			// Not known, or known without its parents (AddCommit of a
			// recorded commit): a root is not told from an unknown past.
			unknown = true
			continue
		}
		queue = append(queue, gc.Parents...)
	}
	if unknown {
		return ancestryUnknown
	}
	return ancestryNo
}
