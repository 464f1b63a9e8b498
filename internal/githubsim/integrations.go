package githubsim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/ferry-ci/ferry/manifest"
)

// integration is a GitHub App as other objects name it (a check suite's or
// check run's app): ferry's own, or another App that runs checks.
type integration struct {
	id                int64
	slug, name, owner string
}

// wellKnown are Apps whose real id tests may expect.
var wellKnown = map[string]integration{
	"github-actions": {id: 15368, slug: "github-actions", name: "GitHub Actions", owner: "github"},
}

// integration returns the App with this slug: ferry's (cfg.AppSlug,
// cfg.AppID), a well-known one, or another with an id stable per slug.
func (s *Sim) integration(slug string) integration {
	if slug == "" || slug == s.cfg.AppSlug {
		return integration{id: s.cfg.AppID, slug: s.cfg.AppSlug, name: s.cfg.AppSlug, owner: "ferry-ci"}
	}
	if in, ok := wellKnown[slug]; ok {
		return in
	}
	return integration{id: fakeID("app:" + slug), slug: slug, name: slug, owner: slug}
}

// AppIDOf is the id of the App with this slug: cfg.AppID for ferry's own,
// 15368 for github-actions (GitHub's), otherwise one stable per slug. A
// test pins a required check to an App with it.
func (s *Sim) AppIDOf(slug string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.integration(slug).id
}

// ciPermissions are what another App running checks is granted.
var ciPermissions = map[string]any{"metadata": "read", "contents": "read", "checks": "write", "statuses": "write"}

// appGrant is what ferry's App asks for in manifest/github-app.json, read
// from the manifest itself so the simulated App cannot drift from it.
type appGrant struct {
	Permissions map[string]any `json:"default_permissions"`
	Events      []any          `json:"default_events"`
}

func ferryGrant() (appGrant, error) {
	var g appGrant
	if err := json.Unmarshal(manifest.AppManifest, &g); err != nil {
		return g, fmt.Errorf("read manifest/github-app.json: %w", err)
	}
	if len(g.Permissions) == 0 || len(g.Events) == 0 {
		return g, fmt.Errorf("manifest/github-app.json has no default_permissions or default_events")
	}
	return g, nil
}

// appObject fills a copy of an example App object (the integration schema,
// in responses and payloads alike) with in.
func (s *Sim) appObject(tmpl any, in integration) map[string]any {
	a, _ := clone(tmpl).(map[string]any)
	if a == nil {
		a = map[string]any{}
	}
	a["id"], a["slug"], a["name"] = in.id, in.slug, in.name
	a["node_id"] = base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "03:Integration%d", in.id))
	a["client_id"] = fmt.Sprintf("Iv1.%016x", fakeID("client:"+in.slug))
	a["description"] = ""
	a["external_url"] = "https://github.com/" + in.owner
	a["html_url"] = "https://github.com/apps/" + in.slug
	a["created_at"], a["updated_at"] = "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"
	owner := s.userObject(a["owner"], in.owner)
	owner["type"] = "Organization"
	a["owner"] = owner
	a["permissions"], a["events"] = clone(ciPermissions), []any{"check_run", "check_suite"}
	if in.id == s.cfg.AppID {
		a["permissions"], a["events"] = clone(s.grant.Permissions), clone(s.grant.Events)
	}
	return a
}

// getAuthenticatedApp answers GET /app (App JWT only): the App itself,
// whose bot login is slug + "[bot]".
func getAuthenticatedApp(c *call) response {
	obj := c.sim.appObject(c.object(http.StatusOK), c.sim.integration(""))
	obj["installations_count"] = len(c.sim.installations)
	return response{status: http.StatusOK, body: obj}
}
