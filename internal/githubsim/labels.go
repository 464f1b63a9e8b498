package githubsim

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Label is a repository's label. Names compare case-insensitively, as on
// GitHub.
type Label struct {
	Name, Color, Description string
	Default                  bool // one of the labels GitHub gives a new repository
}

// defaultLabels are the labels GitHub gives every new repository (the
// recorded labels exchange lists them).
var defaultLabels = []Label{
	{"bug", "d73a4a", "Something isn't working", true},
	{"documentation", "0075ca", "Improvements or additions to documentation", true},
	{"duplicate", "cfd3d7", "This issue or pull request already exists", true},
	{"enhancement", "a2eeef", "New feature or request", true},
	{"good first issue", "7057ff", "Good for newcomers", true},
	{"help wanted", "008672", "Extra attention is needed", true},
	{"invalid", "e4e669", "This doesn't seem right", true},
	{"question", "d876e3", "Further information is requested", true},
	{"wontfix", "ffffff", "This will not be worked on", true},
}

// newLabelColor is the color GitHub gives a label made by adding it to an
// issue.
const newLabelColor = "ededed"

var labelColor = regexp.MustCompile(`^[0-9a-fA-F]{6}$`)

func (r *Repo) label(name string) *Label {
	i := slices.IndexFunc(r.labelDefs, func(l *Label) bool { return strings.EqualFold(l.Name, name) })
	if i < 0 {
		return nil
	}
	return r.labelDefs[i]
}

// ensureLabel returns the label named name, made with GitHub's default
// color if the repository has none.
func (r *Repo) ensureLabel(name string) *Label {
	if l := r.label(name); l != nil {
		return l
	}
	l := &Label{Name: name, Color: newLabelColor}
	r.labelDefs = append(r.labelDefs, l)
	return l
}

// labelObject is l as the REST API and webhook payloads show it.
func (s *Sim) labelObject(r *Repo, l *Label) map[string]any {
	id := fakeID(r.FullName() + "\x00" + strings.ToLower(l.Name))
	return map[string]any{"id": id, "node_id": "LA_" + strconv.FormatInt(id, 10), "name": l.Name, "color": l.Color,
		"description": nullable(l.Description), "default": l.Default,
		"url": s.srv.URL + "/repos/" + r.FullName() + "/labels/" + url.PathEscape(l.Name)}
}

func (c *call) labelList(r *Repo, n int) []any {
	out := []any{}
	for _, name := range r.labels[n] {
		out = append(out, c.sim.labelObject(r, r.ensureLabel(name)))
	}
	return out
}

func listRepoLabels(c *call) response {
	r := c.repo()
	defs := slices.Clone(r.labelDefs)
	sort.SliceStable(defs, func(i, j int) bool { return strings.ToLower(defs[i].Name) < strings.ToLower(defs[j].Name) })
	items := []any{}
	for _, l := range defs {
		items = append(items, c.sim.labelObject(r, l))
	}
	return c.paginate(items)
}

func getLabel(c *call) response {
	r := c.repo()
	l := r.label(c.param("name"))
	if l == nil {
		return errorResponse(http.StatusNotFound, "Not Found")
	}
	return response{status: http.StatusOK, body: c.sim.labelObject(r, l)}
}

func createLabel(c *call) response {
	r := c.repo()
	var in struct {
		Name, Color string
		Description *string
	}
	c.decode(&in)
	if !labelColor.MatchString(in.Color) {
		return validation("Label", "color", "invalid", "")
	}
	if r.label(in.Name) != nil {
		return validation("Label", "name", "already_exists", "")
	}
	l := &Label{Name: in.Name, Color: in.Color}
	if in.Description != nil {
		l.Description = *in.Description
	}
	r.labelDefs = append(r.labelDefs, l)
	return created(c.sim.labelObject(r, l))
}

// updateLabel renames or recolors a label; issues carrying it follow.
func updateLabel(c *call) response {
	r := c.repo()
	l := r.label(c.param("name"))
	if l == nil {
		return errorResponse(http.StatusNotFound, "Not Found")
	}
	var in struct {
		NewName     *string `json:"new_name"`
		Color       *string
		Description *string
	}
	c.decode(&in)
	if in.Color != nil && !labelColor.MatchString(*in.Color) {
		return validation("Label", "color", "invalid", "")
	}
	if in.NewName != nil && !strings.EqualFold(*in.NewName, l.Name) && r.label(*in.NewName) != nil {
		return validation("Label", "name", "already_exists", "")
	}
	if in.NewName != nil {
		for n, names := range r.labels {
			for i, name := range names {
				if strings.EqualFold(name, l.Name) {
					r.labels[n][i] = *in.NewName
				}
			}
		}
		l.Name = *in.NewName
	}
	if in.Color != nil {
		l.Color = *in.Color
	}
	if in.Description != nil {
		l.Description = *in.Description
	}
	return response{status: http.StatusOK, body: c.sim.labelObject(r, l)}
}

// deleteLabel deletes a label and takes it off every issue.
func deleteLabel(c *call) response {
	r := c.repo()
	l := r.label(c.param("name"))
	if l == nil {
		return errorResponse(http.StatusNotFound, "Not Found")
	}
	r.labelDefs = slices.DeleteFunc(r.labelDefs, func(x *Label) bool { return x == l })
	for n := range r.labels {
		r.labels[n] = slices.DeleteFunc(r.labels[n], func(name string) bool { return strings.EqualFold(name, l.Name) })
	}
	return response{status: http.StatusNoContent}
}

// addLabels adds labels to an issue or pull request; one the repository
// lacks is made, as GitHub does.
func addLabels(c *call) response {
	r := c.repo()
	n := int(c.intParam("issue_number"))
	if !r.exists(n) {
		return errorResponse(http.StatusNotFound, "Not Found")
	}
	var in struct{ Labels []string }
	c.decode(&in)
	for _, name := range in.Labels {
		l := r.ensureLabel(name)
		if !slices.ContainsFunc(r.labels[n], func(have string) bool { return strings.EqualFold(have, l.Name) }) {
			r.labels[n] = append(r.labels[n], l.Name)
		}
	}
	return response{status: http.StatusOK, body: c.labelList(r, n)}
}

func removeLabel(c *call) response {
	r := c.repo()
	n := int(c.intParam("issue_number"))
	i := slices.IndexFunc(r.labels[n], func(have string) bool { return strings.EqualFold(have, c.param("name")) })
	if i < 0 {
		return errorResponse(http.StatusNotFound, "Label does not exist")
	}
	r.labels[n] = slices.Delete(r.labels[n], i, i+1)
	return response{status: http.StatusOK, body: c.labelList(r, n)}
}
