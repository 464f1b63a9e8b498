package githubsim

import (
	"fmt"
	"net/http"
)

type checkRunInput struct {
	Name       *string `json:"name"`
	HeadSHA    *string `json:"head_sha"`
	Status     *string `json:"status"`
	Conclusion *string `json:"conclusion"`
	ExternalID *string `json:"external_id"`
	Output     *struct {
		Title       *string          `json:"title"`
		Summary     *string          `json:"summary"`
		Text        *string          `json:"text"`
		Annotations []map[string]any `json:"annotations"`
	} `json:"output"`
	Actions []map[string]any `json:"actions"`
}

// check enforces GitHub's rules the published description leaves out.
func (in checkRunInput) check(cr *CheckRun) *response {
	fail := func(field, msg string) *response {
		r := validation("CheckRun", field, "invalid", msg)
		return &r
	}
	status := cr.Status
	if in.Status != nil {
		status = *in.Status
	}
	if status == "completed" && cr.Conclusion == "" && in.Conclusion == nil {
		return fail("conclusion", "conclusion is required when status is completed")
	}
	if in.Output != nil {
		if len(in.Output.Annotations) > 50 {
			return fail("annotations", "only 50 annotations may be sent per request")
		}
		for _, t := range []*string{in.Output.Summary, in.Output.Text} {
			if t != nil && len([]rune(*t)) > 65535 {
				return fail("output", "summary and text are limited to 65535 characters")
			}
		}
	}
	if len(in.Actions) > 3 {
		return fail("actions", "at most 3 actions")
	}
	return nil
}

func (in checkRunInput) apply(cr *CheckRun) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&cr.Name, in.Name)
	set(&cr.HeadSHA, in.HeadSHA)
	set(&cr.Status, in.Status)
	set(&cr.Conclusion, in.Conclusion)
	set(&cr.ExternalID, in.ExternalID)
	if in.Conclusion != nil {
		cr.Status = "completed"
	}
	if in.Output != nil {
		set(&cr.Title, in.Output.Title)
		set(&cr.Summary, in.Output.Summary)
		set(&cr.Text, in.Output.Text)
		cr.Annotations = append(cr.Annotations, in.Output.Annotations...) // updates add to them
	}
	if in.Actions != nil {
		cr.Actions = in.Actions
	}
}

func (c *call) checkRunObject(tmpl map[string]any, r *Repo, cr *CheckRun) map[string]any {
	tmpl["id"], tmpl["name"], tmpl["head_sha"], tmpl["status"] = int(cr.ID), cr.Name, cr.HeadSHA, cr.Status
	tmpl["external_id"] = cr.ExternalID
	tmpl["conclusion"] = nil
	if cr.Conclusion != "" {
		tmpl["conclusion"] = cr.Conclusion
	}
	tmpl["url"] = c.apiURL(fmt.Sprintf("/repos/%s/check-runs/%d", r.FullName(), cr.ID))
	if out, ok := tmpl["output"].(map[string]any); ok {
		out["title"], out["summary"], out["text"] = cr.Title, cr.Summary, cr.Text
		out["annotations_count"] = len(cr.Annotations)
	}
	if app, ok := tmpl["app"].(map[string]any); ok {
		app["id"], app["slug"] = int(c.sim.cfg.AppID), c.sim.cfg.AppSlug
	}
	return tmpl
}

func createCheckRun(c *call) response {
	r := c.repo()
	var in checkRunInput
	c.decode(&in)
	cr := &CheckRun{ID: c.sim.nextID(), Status: "queued"}
	if bad := in.check(cr); bad != nil {
		return *bad
	}
	in.apply(cr)
	r.checkRuns = append(r.checkRuns, cr)
	return response{status: http.StatusCreated, body: c.checkRunObject(c.object(201), r, cr)}
}

func (c *call) checkRun(r *Repo) *CheckRun {
	for _, cr := range r.checkRuns {
		if cr.ID == c.intParam("check_run_id") {
			return cr
		}
	}
	c.notFound()
	return nil
}

func updateCheckRun(c *call) response {
	r := c.repo()
	cr := c.checkRun(r)
	var in checkRunInput
	c.decode(&in)
	if bad := in.check(cr); bad != nil {
		return *bad
	}
	in.apply(cr)
	cr.Updates++
	return response{status: http.StatusOK, body: c.checkRunObject(c.object(200), r, cr)}
}

// listCheckRunsForRef lists the check runs on a commit SHA (a branch name
// resolves to its head), filtered by check_name as GitHub does.
func listCheckRunsForRef(c *call) response {
	r := c.repo()
	sha := c.param("ref")
	if s, ok := r.refs["heads/"+sha]; ok {
		sha = s
	}
	name := c.r.URL.Query().Get("check_name")
	obj := c.object(200)
	tmpl := map[string]any{}
	if list, ok := obj["check_runs"].([]any); ok && len(list) > 0 {
		tmpl = list[0].(map[string]any)
	}
	runs := []any{}
	for _, cr := range r.checkRuns {
		if cr.HeadSHA == sha && (name == "" || cr.Name == name) {
			runs = append(runs, c.checkRunObject(clone(tmpl).(map[string]any), r, cr))
		}
	}
	obj["total_count"], obj["check_runs"] = len(runs), runs
	return response{status: http.StatusOK, body: obj}
}

func listAnnotations(c *call) response {
	r := c.repo()
	cr := c.checkRun(r)
	tmpl := c.item(200)
	var items []any
	for _, a := range cr.Annotations {
		it := clone(tmpl).(map[string]any)
		for k, v := range a {
			it[k] = v
		}
		items = append(items, it)
	}
	return c.paginate(items)
}

func (c *call) deploymentObject(tmpl map[string]any, r *Repo, d *Deployment) map[string]any {
	tmpl["id"], tmpl["ref"], tmpl["sha"], tmpl["environment"], tmpl["task"] = int(d.ID), d.Ref, d.SHA, d.Environment, d.Task
	tmpl["description"] = d.Description
	tmpl["url"] = c.apiURL(fmt.Sprintf("/repos/%s/deployments/%d", r.FullName(), d.ID))
	tmpl["statuses_url"] = c.apiURL(fmt.Sprintf("/repos/%s/deployments/%d/statuses", r.FullName(), d.ID))
	tmpl["creator"] = c.user(tmpl["creator"], c.sim.BotLogin())
	if d.Payload != nil {
		tmpl["payload"] = d.Payload
	}
	return tmpl
}

func listDeployments(c *call) response {
	r := c.repo()
	q := c.r.URL.Query()
	tmpl := c.item(200)
	items := []any{}
	for i := len(r.deployments) - 1; i >= 0; i-- { // newest first, as GitHub lists them
		d := r.deployments[i]
		if (q.Get("sha") == "" || q.Get("sha") == d.SHA) && (q.Get("environment") == "" || q.Get("environment") == d.Environment) {
			items = append(items, c.deploymentObject(clone(tmpl).(map[string]any), r, d))
		}
	}
	return c.paginate(items)
}

func createDeployment(c *call) response {
	r := c.repo()
	var in struct {
		Ref, Task, Environment, Description string
		Payload                             any
	}
	c.decode(&in)
	sha := in.Ref
	if s, ok := r.refs["heads/"+in.Ref]; ok {
		sha = s
	} else if len(in.Ref) != 40 {
		return validation("Deployment", "ref", "invalid", "No ref found for: "+in.Ref)
	}
	if in.Environment == "" {
		in.Environment = "production"
	}
	if in.Task == "" {
		in.Task = "deploy"
	}
	d := &Deployment{ID: c.sim.nextID(), Ref: in.Ref, SHA: sha, Environment: in.Environment, Task: in.Task,
		Payload: in.Payload, Description: in.Description, Created: c.sim.now()}
	r.deployments = append(r.deployments, d)
	return response{status: http.StatusCreated, body: c.deploymentObject(c.object(201), r, d)}
}

func createDeploymentStatus(c *call) response {
	r := c.repo()
	var d *Deployment
	for _, x := range r.deployments {
		if x.ID == c.intParam("deployment_id") {
			d = x
		}
	}
	if d == nil {
		return errorResponse(http.StatusNotFound, "Not Found")
	}
	var in struct {
		State          string `json:"state"`
		Description    string `json:"description"`
		EnvironmentURL string `json:"environment_url"`
		LogURL         string `json:"log_url"`
	}
	c.decode(&in)
	st := DeploymentStatus{ID: c.sim.nextID(), State: in.State, Description: in.Description, EnvironmentURL: in.EnvironmentURL, LogURL: in.LogURL}
	d.Statuses = append(d.Statuses, st)
	obj := c.object(201)
	obj["id"], obj["state"], obj["description"] = int(st.ID), st.State, st.Description
	obj["environment"], obj["environment_url"], obj["log_url"] = d.Environment, st.EnvironmentURL, st.LogURL
	obj["deployment_url"] = c.apiURL(fmt.Sprintf("/repos/%s/deployments/%d", r.FullName(), d.ID))
	obj["creator"] = c.user(obj["creator"], c.sim.BotLogin())
	return response{status: http.StatusCreated, body: obj}
}
