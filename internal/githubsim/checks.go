package githubsim

import (
	"fmt"
	"net/http"
	"time"
)

type checkRunInput struct {
	Name       *string `json:"name"`
	HeadSHA    *string `json:"head_sha"`
	Status     *string `json:"status"`
	Conclusion *string `json:"conclusion"`
	ExternalID *string `json:"external_id"`
	DetailsURL *string `json:"details_url"`
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

// apply records the input on cr at now; a run completes when it gets a
// conclusion.
func (in checkRunInput) apply(cr *CheckRun, now time.Time) {
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
	set(&cr.DetailsURL, in.DetailsURL)
	if in.Conclusion != nil {
		cr.Status = "completed"
	}
	if cr.Status == "completed" && cr.Completed.IsZero() {
		cr.Completed = now
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
	tmpl["html_url"] = fmt.Sprintf("https://github.com/%s/runs/%d", r.FullName(), cr.ID)
	tmpl["node_id"] = fmt.Sprintf("CR_%d", cr.ID)
	tmpl["details_url"] = nullable(cr.DetailsURL)
	tmpl["started_at"], tmpl["completed_at"] = timeOrNil(cr.Started), timeOrNil(cr.Completed)
	if out, ok := tmpl["output"].(map[string]any); ok {
		out["title"], out["summary"], out["text"] = nullable(cr.Title), nullable(cr.Summary), nullable(cr.Text)
		out["annotations_count"] = len(cr.Annotations)
		out["annotations_url"] = tmpl["url"].(string) + "/annotations"
	}
	tmpl["app"] = c.sim.appObject(tmpl["app"], c.sim.integration(cr.App))
	tmpl["check_suite"] = map[string]any{"id": cr.SuiteID}
	tmpl["pull_requests"] = c.sim.prRefs(r, cr.HeadSHA, "")
	return tmpl
}

func createCheckRun(c *call) response {
	r := c.repo()
	var in checkRunInput
	c.decode(&in)
	cr := &CheckRun{ID: c.sim.nextID(), Status: "queued", Started: c.sim.now()}
	if bad := in.check(cr); bad != nil {
		return *bad
	}
	in.apply(cr, c.sim.now())
	c.sim.addRun(r, c.sim.cfg.AppSlug, cr) // ferry's token: ferry's suite
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
	if cr.App != c.sim.cfg.AppSlug {
		return errorResponse(http.StatusForbidden, "Resource not accessible by integration") // another App's run
	}
	var in checkRunInput
	c.decode(&in)
	if bad := in.check(cr); bad != nil {
		return *bad
	}
	in.apply(cr, c.sim.now())
	cr.Updates++
	c.sim.rollUp(r, cr.SuiteID)
	return response{status: http.StatusOK, body: c.checkRunObject(c.object(200), r, cr)}
}

// listCheckRunsForRef lists the check runs on a commit SHA (a branch name
// resolves to its head), every App's, filtered by check_name, status and
// app_id as GitHub does; filter=latest (the default) keeps each App's
// newest run of a name.
func listCheckRunsForRef(c *call) response {
	r := c.repo()
	sha := r.resolveRef(c.param("ref"))
	q := c.r.URL.Query()
	obj := c.object(200)
	tmpl := map[string]any{}
	if list, ok := obj["check_runs"].([]any); ok && len(list) > 0 {
		tmpl = list[0].(map[string]any)
	}
	newest := map[[2]string]int64{} // App and name → newest run on sha
	for _, cr := range r.checkRuns {
		if cr.HeadSHA == sha {
			newest[[2]string{cr.App, cr.Name}] = cr.ID
		}
	}
	runs := []any{}
	for _, cr := range r.checkRuns {
		switch {
		case cr.HeadSHA != sha, q.Get("check_name") != "" && cr.Name != q.Get("check_name"),
			q.Get("status") != "" && cr.Status != q.Get("status"), !c.appMatches(cr.App),
			q.Get("filter") != "all" && newest[[2]string{cr.App, cr.Name}] != cr.ID:
			continue
		}
		runs = append(runs, c.checkRunObject(clone(tmpl).(map[string]any), r, cr))
	}
	return c.pageIn(obj, "check_runs", runs)
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
	tmpl["node_id"] = fmt.Sprintf("DE_%d", d.ID)
	tmpl["original_environment"], tmpl["production_environment"] = d.Environment, d.Production
	tmpl["created_at"], tmpl["updated_at"] = stamp(d.Created), stamp(d.Created)
	tmpl["repository_url"] = c.apiURL("/repos/" + r.FullName())
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
		Production                          bool `json:"production_environment"`
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
		Payload: in.Payload, Description: in.Description, Production: in.Production, Created: c.sim.now()}
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
	st := DeploymentStatus{ID: c.sim.nextID(), State: in.State, Description: in.Description, EnvironmentURL: in.EnvironmentURL,
		LogURL: in.LogURL, Created: c.sim.now()}
	d.Statuses = append(d.Statuses, st)
	obj := c.object(201)
	obj["id"], obj["node_id"], obj["state"], obj["description"] = int(st.ID), fmt.Sprintf("DES_%d", st.ID), st.State, st.Description
	// target_url is log_url's older name; GitHub answers both.
	obj["environment"], obj["environment_url"], obj["log_url"], obj["target_url"] = d.Environment, st.EnvironmentURL, st.LogURL, st.LogURL
	deployment := c.apiURL(fmt.Sprintf("/repos/%s/deployments/%d", r.FullName(), d.ID))
	obj["url"], obj["deployment_url"] = fmt.Sprintf("%s/statuses/%d", deployment, st.ID), deployment
	obj["repository_url"] = c.apiURL("/repos/" + r.FullName())
	obj["created_at"], obj["updated_at"] = stamp(st.Created), stamp(st.Created)
	obj["creator"] = c.user(obj["creator"], c.sim.BotLogin())
	return created(obj)
}
