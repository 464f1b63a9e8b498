package githubsim_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/manifest"
)

// TestAppGrantIsTheManifests: GET /app reports exactly the permissions and
// events manifest/github-app.json asks for.
func TestAppGrantIsTheManifests(t *testing.T) {
	var want struct {
		Permissions map[string]any `json:"default_permissions"`
		Events      []any          `json:"default_events"`
	}
	if err := json.Unmarshal(manifest.AppManifest, &want); err != nil {
		t.Fatal(err)
	}
	sim := githubsim.New(t, githubsim.Config{})
	now := time.Now()
	jwt := appJWT(t, sim.PrivateKeyPEM(), "4242", now, now.Add(time.Minute))
	status, body := do(t, sim, "GET", "/app", "Bearer "+jwt, "")
	var got struct {
		Permissions map[string]any `json:"permissions"`
		Events      []any          `json:"events"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || status != 200 {
		t.Fatalf("GET /app: %d %v %s", status, err, body)
	}
	if d := cmp.Diff(want.Permissions, got.Permissions); d != "" {
		t.Errorf("permissions (-manifest +simulator):\n%s", d)
	}
	if d := cmp.Diff(want.Events, got.Events); d != "" {
		t.Errorf("events (-manifest +simulator):\n%s", d)
	}
}
