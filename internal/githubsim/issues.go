package githubsim

import (
	"fmt"
	"net/http"
	"slices"
)

func (c *call) commentObject(tmpl map[string]any, r *Repo, cm *Comment) map[string]any {
	tmpl["id"] = int(cm.ID)
	tmpl["body"] = cm.Body
	tmpl["user"] = c.user(tmpl["user"], cm.User)
	tmpl["created_at"] = cm.Created.UTC().Format("2006-01-02T15:04:05Z")
	tmpl["updated_at"] = cm.Updated.UTC().Format("2006-01-02T15:04:05Z")
	tmpl["url"] = c.apiURL(fmt.Sprintf("/repos/%s/issues/comments/%d", r.FullName(), cm.ID))
	tmpl["issue_url"] = c.apiURL(fmt.Sprintf("/repos/%s/issues/%d", r.FullName(), cm.Number))
	kind := "issues"
	if _, isPR := r.pulls[cm.Number]; isPR {
		kind = "pull"
	}
	tmpl["html_url"] = fmt.Sprintf("https://github.com/%s/%s/%d#issuecomment-%d", r.FullName(), kind, cm.Number, cm.ID)
	tmpl["reactions"] = c.reactions(tmpl["url"].(string))
	return tmpl
}

// exists reports whether an issue or pull request has this number.
func (r *Repo) exists(n int) bool {
	_, pr := r.pulls[n]
	_, is := r.issues[n]
	return pr || is
}

func listComments(c *call) response {
	r := c.repo()
	n := int(c.intParam("issue_number"))
	if !r.exists(n) {
		return errorResponse(http.StatusNotFound, "Not Found")
	}
	tmpl := c.item(200)
	var items []any
	for _, cm := range r.comments {
		if cm.Number == n {
			items = append(items, c.commentObject(clone(tmpl).(map[string]any), r, cm))
		}
	}
	return c.paginate(items)
}

// maxBody is GitHub's limit on a comment or check-run text.
const maxBody = 65536

func createComment(c *call) response {
	r := c.repo()
	n := int(c.intParam("issue_number"))
	if !r.exists(n) {
		return errorResponse(http.StatusNotFound, "Not Found")
	}
	var in struct{ Body string }
	c.decode(&in)
	if len([]rune(in.Body)) >= maxBody {
		return validation("IssueComment", "body", "custom", "body is too long (maximum is 65536 characters)")
	}
	cm := &Comment{ID: c.sim.nextID(), Number: n, User: c.sim.BotLogin(), Body: in.Body, Created: c.sim.now(), Updated: c.sim.now()}
	r.comments = append(r.comments, cm)
	return created(c.commentObject(c.object(201), r, cm))
}

func (c *call) comment(r *Repo) int {
	id := c.intParam("comment_id")
	for i, cm := range r.comments {
		if cm.ID == id {
			return i
		}
	}
	c.notFound()
	return -1
}

// getComment answers one comment of this repository by id; a deleted one,
// or another repository's, is 404 as on GitHub.
func getComment(c *call) response {
	r := c.repo()
	cm := r.comments[c.comment(r)]
	return response{status: http.StatusOK, body: c.commentObject(c.object(http.StatusOK), r, cm)}
}

func updateComment(c *call) response {
	r := c.repo()
	i := c.comment(r)
	var in struct{ Body string }
	c.decode(&in)
	if len([]rune(in.Body)) >= maxBody {
		return validation("IssueComment", "body", "custom", "body is too long (maximum is 65536 characters)")
	}
	cm := r.comments[i]
	if cm.User != c.sim.BotLogin() {
		return errorResponse(http.StatusForbidden, "Resource not accessible by integration")
	}
	cm.History = append(cm.History, cm.Body)
	cm.Body, cm.Updated = in.Body, c.sim.now()
	return response{status: http.StatusOK, body: c.commentObject(c.object(200), r, cm)}
}

func deleteComment(c *call) response {
	r := c.repo()
	i := c.comment(r)
	r.comments = slices.Delete(r.comments, i, i+1)
	return response{status: http.StatusNoContent}
}

func createReaction(c *call) response {
	r := c.repo()
	i := c.comment(r)
	var in struct{ Content string }
	c.decode(&in)
	cm := r.comments[i]
	status := http.StatusCreated
	if slices.Contains(cm.Reactions, in.Content) {
		status = http.StatusOK // the same reaction again is not a second one
	} else {
		cm.Reactions = append(cm.Reactions, in.Content)
	}
	obj := c.object(status)
	obj["content"] = in.Content
	obj["user"] = c.user(obj["user"], c.sim.BotLogin())
	obj["id"] = int(fakeID(fmt.Sprint(cm.ID, in.Content)))
	return response{status: status, body: obj}
}

// getPermission answers like GitHub: `permission` is the legacy level
// (admin, write, read, none; maintain→write, triage→read) and role_name
// the real role.
func getPermission(c *call) response {
	r := c.repo()
	login := c.param("username")
	role, ok := r.collaborators[login]
	if !ok {
		role = "none"
	}
	legacy := map[string]string{"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read", "none": "none"}[role]
	obj := c.object(200)
	obj["permission"], obj["role_name"] = legacy, role
	obj["user"] = c.user(obj["user"], login)
	if u, ok := obj["user"].(map[string]any); ok {
		u["permissions"] = map[string]any{"admin": role == "admin", "maintain": role == "admin" || role == "maintain",
			"push": legacy == "admin" || legacy == "write", "triage": role != "read" && role != "none", "pull": role != "none"}
		u["role_name"] = role
	}
	return response{status: http.StatusOK, body: obj}
}
