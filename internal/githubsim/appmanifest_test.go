package githubsim_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/githubsim"
)

// postManifest plays the browser: it posts a manifest to the simulated
// github.com and returns where GitHub redirected it.
func postManifest(t *testing.T, sim *githubsim.Sim, path, manifest string) *http.Response {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(sim.WebURL()+path, url.Values{"manifest": {manifest}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func manifestCode(t *testing.T, sim *githubsim.Sim, name string) string {
	t.Helper()
	m := `{"name":"` + name + `","url":"https://ferry.example.test","redirect_url":"http://127.0.0.1:1/cb?x=1",
		"hook_attributes":{"url":"https://ferry.example.test/webhook"},"default_permissions":{"issues":"write"},
		"default_events":["issue_comment"]}`
	resp := postManifest(t, sim, "/organizations/acme/settings/apps/new?state=s1", m)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("posting the manifest: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if loc.Path != "/cb" || loc.Query().Get("state") != "s1" || loc.Query().Get("x") != "1" {
		t.Fatalf("redirect %s: want the redirect_url with its query, the code and the state", loc)
	}
	return loc.Query().Get("code")
}

// TestManifestFlow: a manifest posted to github.com gives a code, traded
// once within the hour for the App's id, key and webhook secret; a reused
// or expired code is 404 and a taken name 422, as on GitHub.
func TestManifestFlow(t *testing.T) {
	var skew atomic.Int64
	sim := githubsim.New(t, githubsim.Config{Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	code := manifestCode(t, sim, "ferry-acme")
	status, body := do(t, sim, "POST", "/app-manifests/"+code+"/conversions", "", "")
	var got struct {
		ID                   int64
		Name, PEM, Slug      string
		WebhookSecret        string `json:"webhook_secret"`
		Owner                struct{ Login string }
		Permissions          map[string]string
		ClientID, HTMLURL    string
		ClientSecret, NodeID string
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || status != 201 {
		t.Fatalf("conversion: %d %v %s", status, err, body)
	}
	if got.ID != sim.AppID() || got.PEM != string(sim.PrivateKeyPEM()) || got.WebhookSecret != "githubsim-secret" ||
		got.Name != "ferry-acme" || got.Owner.Login != "acme" || got.Permissions["issues"] != "write" {
		t.Errorf("converted App %+v", got)
	}
	if apps := sim.CreatedApps(); len(apps) != 1 || apps[0].Org != "acme" {
		t.Errorf("created apps %+v", apps)
	}
	if status, _ := do(t, sim, "POST", "/app-manifests/"+code+"/conversions", "", ""); status != 404 {
		t.Errorf("reused code: %d, want 404", status)
	}
	if status, body := do(t, sim, "POST", "/app-manifests/"+manifestCode(t, sim, "FERRY-ACME")+"/conversions", "", ""); status != 422 ||
		!strings.Contains(body, "already been taken") {
		t.Errorf("taken name: %d %s, want 422", status, body)
	}
	expired := manifestCode(t, sim, "ferry-other")
	skew.Store(int64(time.Hour + time.Second))
	if status, _ := do(t, sim, "POST", "/app-manifests/"+expired+"/conversions", "", ""); status != 404 {
		t.Errorf("expired code: %d, want 404", status)
	}
}

// TestManifestFlow_InvalidManifest: GitHub keeps a manifest it cannot
// register on its page; nothing redirects.
func TestManifestFlow_InvalidManifest(t *testing.T) {
	sim := githubsim.New(t, githubsim.Config{})
	for name, m := range map[string]string{
		"not JSON":         `{`,
		"no redirect":      `{"name":"a","url":"https://a.test","hook_attributes":{"url":"https://a.test/webhook"}}`,
		"no hook":          `{"name":"a","url":"https://a.test","redirect_url":"http://127.0.0.1/cb"}`,
		"admin permission": `{"name":"a","url":"https://a.test","redirect_url":"http://127.0.0.1/cb","hook_attributes":{"url":"https://a.test/w"},"default_permissions":{"issues":"admin"}}`,
	} {
		if resp := postManifest(t, sim, "/settings/apps/new", m); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", name, resp.StatusCode)
		}
	}
}
