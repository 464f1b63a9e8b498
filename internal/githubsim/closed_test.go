package githubsim_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/githubsim"
)

// TestUnknownRequestPropertyFailsTheTest: GitHub ignores a property it
// does not know, so a typo is a silent no-op in production; the simulator
// reports it. The same body spelt right passes, nested objects and array
// items included.
func TestUnknownRequestPropertyFailsTheTest(t *testing.T) {
	rep := &reporter{TB: t}
	sim := githubsim.New(rep, githubsim.Config{})
	sim.AddInstallation(1, "acme")
	sim.AddRepo(1, "acme/api")
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "t"})
	head := sim.PullRequests("acme/api")[0].HeadSHA
	tok := "token " + sim.InstallationToken(1)
	_, created := do(t, sim, "POST", "/repos/acme/api/check-runs", tok, `{"name":"ferry/risk","head_sha":"`+head+`"}`)
	var run struct{ ID int64 }
	if err := json.Unmarshal([]byte(created), &run); err != nil || run.ID == 0 || rep.reported() != "" {
		t.Fatalf("create check run: %s %v %s", created, err, rep.reported())
	}
	tests := []struct {
		name, method, path, body, typo, fixed string
	}{
		{"check run update (anyOf body)", "PATCH", fmt.Sprintf("/repos/acme/api/check-runs/%d", run.ID),
			`{"status":"completed","conclusion":"success","extrenal_id":"a-1"}`, "extrenal_id", "external_id"},
		{"the issue's own example", "PATCH", fmt.Sprintf("/repos/acme/api/check-runs/%d", run.ID),
			`{"conclussion":"success"}`, "conclussion", "conclusion"},
		{"check run output (nested object)", "POST", "/repos/acme/api/check-runs",
			`{"name":"x","head_sha":"` + head + `","output":{"title":"t","summary":"s","txt":"more"}}`, "txt", "text"},
		{"comment", "POST", fmt.Sprintf("/repos/acme/api/issues/%d/comments", n), `{"body":"hi","bdy":"hi"}`, "bdy", "body"},
		{"deployment", "POST", "/repos/acme/api/deployments", `{"ref":"main","enviroment":"staging"}`, "enviroment", "environment"},
		{"commit status", "POST", "/repos/acme/api/statuses/" + head, `{"state":"success","contxt":"ci"}`, "contxt", "context"},
		{"tree entry (array item)", "POST", "/repos/acme/api/git/trees",
			`{"tree":[{"path":"a","mode":"100644","type":"blob","contnt":"x"}]}`, "contnt", "content"},
	}
	for _, tt := range tests {
		rep.errs = nil
		status, _ := do(t, sim, tt.method, tt.path, tok, tt.body)
		want := fmt.Sprintf(`property %q is unsupported`, tt.typo)
		if got := rep.reported(); status < 400 || !strings.Contains(got, want) {
			t.Errorf("%s: answered %d, reported %q; want a report of %s", tt.name, status, got, want)
		}
		rep.errs = nil
		fixed := strings.Replace(tt.body, `"`+tt.typo+`"`, `"`+tt.fixed+`"`, 1)
		if status, body := do(t, sim, tt.method, tt.path, tok, fixed); status >= 400 || rep.reported() != "" {
			t.Errorf("%s spelt right: answered %d %s, reported %q", tt.name, status, body, rep.reported())
		}
	}
}
