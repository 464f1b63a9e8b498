package githubsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// GateRun is a workflow run waiting on ferry as a deployment protection
// rule of an environment, and what ferry answered.
type GateRun struct {
	RunID       int64
	Environment string
	SHA         string
	State       string   // "" waiting; approved or rejected once answered
	Comments    []string // every comment sent, with or without a decision
	Decisions   int      // answers accepted (GitHub takes one)
}

// RequestGate makes a run wait on the App for a deployment of sha to an
// environment and sends the deployment_protection_rule requested event
// (a payload built to GitHub's webhook schema: octokit/webhooks has no
// example), naming the open pull requests whose head is sha. It returns
// the delivery.
func (s *Sim) RequestGate(repo, environment, sha string, runID int64) (guid string, status int) {
	s.mu.Lock()
	r := s.mustRepo(repo)
	r.gates = append(r.gates, &GateRun{RunID: runID, Environment: environment, SHA: sha})
	body := s.gatePayload(r, environment, sha, s.srv.URL+fmt.Sprintf("/repos/%s/actions/runs/%d/deployment_protection_rule", repo, runID))
	s.mu.Unlock()
	return s.SendWebhook("deployment_protection_rule", body)
}

// GatePayload is the deployment_protection_rule payload RequestGate sends,
// with any callback URL (attack tests forge it).
func (s *Sim) GatePayload(repo, environment, sha, callback string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gatePayload(s.mustRepo(repo), environment, sha, callback)
}

func (s *Sim) gatePayload(r *Repo, environment, sha, callback string) []byte {
	src := from("deployment", "payload.json")
	dep := src["deployment"].(map[string]any)
	dep["sha"], dep["ref"], dep["environment"], dep["original_environment"] = sha, r.DefaultBranch, environment, environment
	dep["id"], dep["task"] = int(fakeID(sha+environment)), "deploy"
	dep["url"] = s.srv.URL + "/repos/" + r.FullName() + "/deployments/" + strconv.Itoa(dep["id"].(int))
	p := map[string]any{"action": "requested", "environment": environment, "event": "push",
		"deployment_callback_url": callback, "deployment": dep, "repository": s.repoPart(src["repository"].(map[string]any), r),
		"sender": src["sender"], "installation": map[string]any{"id": r.Installation, "node_id": "inst"}}
	var prs []any
	for _, pr := range r.pulls {
		if pr.State == "open" && pr.HeadSHA == sha {
			prs = append(prs, s.pullPart(r, pr))
		}
	}
	p["pull_requests"] = nonNilAny(prs)
	body, _ := json.Marshal(p)
	return body
}

// pullPart is a pull request as webhook payloads carry it.
func (s *Sim) pullPart(r *Repo, pr *PullRequest) any {
	var ev map[string]any
	_ = json.Unmarshal(s.pullRequestEvent("opened", r.FullName(), pr.Number, "", nil), &ev)
	return ev["pull_request"]
}

func nonNilAny(s []any) []any {
	if s == nil {
		return []any{}
	}
	return s
}

// Gates lists a repository's protection rule requests and their answers.
func (s *Sim) Gates(repo string) []GateRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []GateRun
	for _, g := range s.mustRepo(repo).gates {
		c := *g
		c.Comments = append([]string(nil), g.Comments...)
		out = append(out, c)
	}
	return out
}

// reviewGate answers a run's protection rule: a comment alone while it
// waits, or a decision — once; a second is refused (422).
func reviewGate(c *call) response {
	r := c.repo()
	var in struct {
		Environment string `json:"environment_name"`
		State       string `json:"state"`
		Comment     string `json:"comment"`
	}
	c.decode(&in)
	var g *GateRun
	for _, x := range r.gates {
		if x.RunID == c.intParam("run_id") && x.Environment == in.Environment {
			g = x
		}
	}
	switch {
	case g == nil:
		return errorResponse(http.StatusNotFound, "Not Found")
	case in.State != "" && g.State != "":
		return validation("DeploymentProtectionRule", "state", "custom", "No pending custom deployment requests to approve or reject")
	}
	g.Comments = append(g.Comments, in.Comment)
	if in.State != "" {
		g.State = in.State
		g.Decisions++
	}
	return response{status: http.StatusNoContent}
}
