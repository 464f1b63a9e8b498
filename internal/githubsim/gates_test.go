package githubsim_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ferry-ci/ferry/internal/githubsim"
)

// TestGatePayloadFollowsGitHubsSchema: the deployment_protection_rule
// payload the simulator builds (octokit/webhooks has no example of it)
// validates against GitHub's webhook schema, with and without a pull
// request.
func TestGatePayloadFollowsGitHubsSchema(t *testing.T) {
	f, err := os.Open("testdata/webhooks-schema.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	// GitHub's "{/sha}" templates are RFC 6570 level 3; the library's check
	// knows only simple expansions.
	c.RegisterFormat(&jsonschema.Format{Name: "uri-template", Validate: func(any) error { return nil }})
	if err := c.AddResource("webhooks.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("webhooks.json#/definitions/deployment_protection_rule$requested")
	if err != nil {
		t.Fatal(err)
	}
	sim := githubsim.New(t, githubsim.Config{})
	sim.AddInstallation(1, "acme")
	sim.AddRepo(1, "acme/api")
	sha := strings.Repeat("a", 40)
	sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "x", HeadSHA: sha})
	for name, payload := range map[string][]byte{
		"with a pull request": sim.GatePayload("acme/api", "production", sha, sim.URL()+"repos/acme/api/actions/runs/7/deployment_protection_rule"),
		"without":             sim.GatePayload("acme/api", "production", strings.Repeat("b", 40), "https://api.github.com/x"),
	} {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(inst); err != nil {
			var pretty bytes.Buffer
			_ = json.Indent(&pretty, payload, "", " ")
			t.Errorf("%s: %v", name, err)
		}
	}
}
