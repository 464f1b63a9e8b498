package githubsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/routers"
)

// call is one request being handled (under the simulator's lock).
type call struct {
	sim          *Sim
	r            *http.Request
	body         []byte
	route        *routers.Route
	params       map[string]string
	credential   string
	installation int64
}

type handler func(c *call) response

func (c *call) param(name string) string { return c.params[name] }

func (c *call) intParam(name string) int64 {
	n, _ := strconv.ParseInt(c.params[name], 10, 64)
	return n
}

// abort ends a handler early with an answer (recovered in handleLocked):
// handlers read as the happy path.
type abort response

func (c *call) fail(resp response) { panic(abort(resp)) }

func (c *call) notFound() { c.fail(errorResponse(http.StatusNotFound, "Not Found")) }

// decode reads the JSON body into v, or answers 400 as GitHub does.
func (c *call) decode(v any) {
	if err := json.Unmarshal(c.body, v); err != nil {
		c.fail(errorResponse(http.StatusBadRequest, "Problems parsing JSON"))
	}
}

// repo resolves {owner}/{repo}; a repository the token's installation
// cannot see is 404, as on GitHub.
func (c *call) repo() *Repo {
	r, ok := c.sim.repos[c.param("owner")+"/"+c.param("repo")]
	if !ok || r.Installation != c.installation {
		c.notFound()
	}
	return r
}

// object is the description's example for this operation and status, to be
// filled with the simulator's state.
func (c *call) object(status int) map[string]any {
	ex, err := c.sim.spec.example(c.route, status)
	if err != nil {
		panic(simBug(err.Error()))
	}
	m, ok := ex.(map[string]any)
	if !ok {
		panic(simBug(fmt.Sprintf("example of %s is %T, not an object", c.route.Operation.OperationID, ex)))
	}
	return m
}

// item is the first element of the example list for this operation.
func (c *call) item(status int) map[string]any {
	ex, err := c.sim.spec.example(c.route, status)
	if err != nil {
		panic(simBug(err.Error()))
	}
	list, ok := ex.([]any)
	if !ok || len(list) == 0 {
		panic(simBug(fmt.Sprintf("example of %s is not a list", c.route.Operation.OperationID)))
	}
	return clone(list[0]).(map[string]any)
}

func clone(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func (c *call) now() string { return c.sim.now().UTC().Format(time.RFC3339) }

func (c *call) apiURL(path string) string { return c.sim.srv.URL + path }

// user fills an example user object.
func (c *call) user(tmpl any, login string) map[string]any { return c.sim.userObject(tmpl, login) }

// userObject fills a copy of an example user object (of a response or a
// webhook payload) for login: a Bot when it ends in [bot], as GitHub names
// Apps' users; the id is stable per login.
func (s *Sim) userObject(tmpl any, login string) map[string]any {
	u, _ := clone(tmpl).(map[string]any)
	if u == nil {
		u = map[string]any{}
	}
	u["login"] = login
	u["id"] = int(fakeID(login))
	u["node_id"] = "U_" + strconv.FormatInt(fakeID(login), 10)
	u["type"] = "User"
	if strings.HasSuffix(login, "[bot]") {
		u["type"] = "Bot"
	}
	u["url"] = s.srv.URL + "/users/" + url.PathEscape(login)
	u["html_url"] = "https://github.com/" + login
	return u
}

func fakeID(s string) int64 {
	var h int64 = 7
	for _, b := range []byte(s) {
		h = (h*31 + int64(b)) % 1_000_000_007
	}
	return h + 1
}

// paginate answers one page of items with GitHub's Link header.
func (c *call) paginate(items []any) response {
	q := c.r.URL.Query()
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 30
	}
	per = min(per, 100)
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	last := max(1, (len(items)+per-1)/per)
	lo, hi := min((page-1)*per, len(items)), min(page*per, len(items))
	resp := response{status: http.StatusOK, body: append([]any{}, items[lo:hi]...), header: http.Header{}}
	if link := c.links(page, last, per); link != "" {
		resp.header.Set("Link", link)
	}
	return resp
}

// pageIn answers one page of items inside obj[key] with their
// total_count, as GitHub wraps some lists (check runs, check suites,
// statuses, an installation's repositories).
func (c *call) pageIn(obj map[string]any, key string, items []any) response {
	page := c.paginate(items)
	obj[key], obj["total_count"] = page.body, len(items)
	page.body = obj
	return page
}

func (c *call) links(page, last, per int) string {
	ref := func(p int, rel string) string {
		u := *c.r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(per))
		u.RawQuery = q.Encode()
		return fmt.Sprintf(`<%s%s>; rel="%s"`, c.sim.srv.URL, u.RequestURI(), rel)
	}
	var parts []string
	if page > 1 {
		parts = append(parts, ref(page-1, "prev"))
	}
	if page < last {
		parts = append(parts, ref(page+1, "next"), ref(last, "last"))
	}
	if page > 1 {
		parts = append(parts, ref(1, "first"))
	}
	return strings.Join(parts, ", ")
}

// created answers 201 with a new object and, in Location, its address
// (its url), as GitHub does for the operations whose description lists
// that header.
func created(obj map[string]any) response {
	h := http.Header{}
	h.Set("Location", obj["url"].(string))
	return response{status: http.StatusCreated, body: obj, header: h}
}

func validation(resource, field, code, msg string) response {
	e := map[string]any{"resource": resource, "field": field, "code": code}
	if msg != "" {
		e["message"] = msg
	}
	return response{status: http.StatusUnprocessableEntity, body: map[string]any{
		"message": "Validation Failed", "errors": []any{e},
		"documentation_url": "https://docs.github.com/rest",
	}}
}

// reactions is the rollup GitHub attaches to issues and comments.
func (c *call) reactions(u string) map[string]any {
	m := map[string]any{"url": u + "/reactions", "total_count": 0}
	for _, k := range []string{"+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"} {
		m[k] = 0
	}
	return m
}
