package githubsim_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/githubsim"
)

// TestBranchProtectionRule: a rule PUT is the rule GET answers, its status
// checks the ones the branch requires; a rule asking for what the
// simulator does not model is reported, not silently dropped.
func TestBranchProtectionRule(t *testing.T) {
	rep := &reporter{TB: t}
	sim := githubsim.New(rep, githubsim.Config{})
	sim.AddInstallation(1, "acme")
	sim.AddRepo(1, "acme/api")
	tok := "token " + sim.InstallationToken(1)
	const rule = "/repos/acme/api/branches/main/protection"
	if status, _ := do(t, sim, "GET", rule, tok, ""); status != 404 {
		t.Fatalf("unprotected branch: %d", status)
	}
	put := `{"required_status_checks":{"strict":true,"contexts":["ci/test"]},"enforce_admins":true,` +
		`"required_pull_request_reviews":null,"restrictions":null}`
	if status, body := do(t, sim, "PUT", rule, tok, put); status != 200 {
		t.Fatalf("PUT: %d %s", status, body)
	}
	status, body := do(t, sim, "GET", rule, tok, "")
	var got struct {
		RequiredStatusChecks struct {
			Strict   bool
			Contexts []string
		} `json:"required_status_checks"`
		EnforceAdmins struct{ Enabled bool } `json:"enforce_admins"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || status != 200 {
		t.Fatalf("GET: %d %v %s", status, err, body)
	}
	if !got.RequiredStatusChecks.Strict || !got.EnforceAdmins.Enabled || !cmp.Equal(got.RequiredStatusChecks.Contexts, []string{"ci/test"}) {
		t.Errorf("rule %+v", got)
	}
	if status, _ := do(t, sim, "GET", rule+"/required_status_checks", tok, ""); status != 200 {
		t.Errorf("required status checks: %d", status)
	}
	if status, _ := do(t, sim, "DELETE", rule, tok, ""); status != 204 {
		t.Errorf("DELETE: %d", status)
	}
	if status, _ := do(t, sim, "GET", rule, tok, ""); status != 404 {
		t.Errorf("after DELETE: %d", status)
	}
	reviews := strings.Replace(put, `"required_pull_request_reviews":null`, `"required_pull_request_reviews":{"required_approving_review_count":1}`, 1)
	do(t, sim, "PUT", rule, tok, reviews)
	if got := rep.reported(); !strings.Contains(got, "required_pull_request_reviews is not simulated") {
		t.Errorf("a rule with reviews: reported %q", got)
	}
}

// TestCheckRunAnnotations: a run's annotations, those of its creation and
// of its updates, are listed.
func TestCheckRunAnnotations(t *testing.T) {
	sim := githubsim.New(t, githubsim.Config{})
	sim.AddInstallation(1, "acme")
	sim.AddRepo(1, "acme/api")
	tok := "token " + sim.InstallationToken(1)
	ann := func(line int) string {
		return fmt.Sprintf(`{"path":"a.go","start_line":%d,"end_line":%d,"annotation_level":"warning","message":"m"}`, line, line)
	}
	_, body := do(t, sim, "POST", "/repos/acme/api/check-runs", tok, `{"name":"ferry/risk","head_sha":"`+strings.Repeat("a", 40)+
		`","output":{"title":"t","summary":"s","annotations":[`+ann(1)+`]}}`)
	var run struct{ ID int64 }
	if err := json.Unmarshal([]byte(body), &run); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/repos/acme/api/check-runs/%d", run.ID)
	do(t, sim, "PATCH", path, tok, `{"output":{"title":"t","summary":"s","annotations":[`+ann(2)+`]}}`)
	status, body := do(t, sim, "GET", path+"/annotations", tok, "")
	var got []struct {
		StartLine int `json:"start_line"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || status != 200 || len(got) != 2 || got[1].StartLine != 2 {
		t.Errorf("annotations: %d %v %s", status, err, body)
	}
}
