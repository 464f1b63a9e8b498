package githubsim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// The App manifest flow (docs.github.com: registering a GitHub App from a
// manifest): a browser posts a manifest to github.com, GitHub redirects it
// to the manifest's redirect_url with a code, and the App's owner trades
// that code once, within an hour, for the new App's credentials
// (POST /app-manifests/{code}/conversions, no authentication).
//
// The simulator hosts one App: every conversion answers its id, private key
// and webhook secret under the manifest's name, so a ferry configured with
// what the conversion returned talks to the simulator as that App.

// manifestCodeTTL is how long GitHub honours a manifest code.
const manifestCodeTTL = time.Hour

// webUser is the account signed in to the simulated github.com: the owner
// of an App registered without an organization.
const webUser = "octocat"

// manifestFlow is the web side's state: codes minted, names taken, Apps made.
type manifestFlow struct {
	codes   map[string]*manifestCode
	names   map[string]bool // lower-cased: GitHub's names are unique regardless of case
	created []CreatedApp
}

type manifestCode struct {
	app     CreatedApp
	expires time.Time
}

// CreatedApp is an App registered from a manifest and converted.
type CreatedApp struct {
	Name     string
	Org      string // "" for the signed-in user's App
	Manifest json.RawMessage
}

// appManifest is the part of a manifest the simulator checks.
type appManifest struct {
	Name           string `json:"name"`
	URL            string `json:"url"`
	Description    string `json:"description"`
	RedirectURL    string `json:"redirect_url"`
	HookAttributes *struct {
		URL string `json:"url"`
	} `json:"hook_attributes"`
	Permissions map[string]string `json:"default_permissions"`
	Events      []string          `json:"default_events"`
}

var (
	newAppPath    = regexp.MustCompile(`^/settings/apps/new$`)
	newOrgAppPath = regexp.MustCompile(`^/organizations/([A-Za-z0-9][A-Za-z0-9-]{0,38})/settings/apps/new$`)
)

// WebURL is the simulated github.com (no trailing slash): the manifest
// flow's form is posted to WebURL()+"/settings/apps/new?state=…", or
// "/organizations/ORG/settings/apps/new?state=…".
func (s *Sim) WebURL() string { return s.srv.URL }

// CreatedApps are the Apps converted from manifests so far.
func (s *Sim) CreatedApps() []CreatedApp {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CreatedApp(nil), s.flow.created...)
}

// serveWeb answers github.com's page that registers an App from a posted
// manifest (skipping the confirmation a person clicks there): it stores the
// manifest, mints a code and redirects to the manifest's redirect_url. It
// reports whether the request was for that page.
func (s *Sim) serveWeb(w http.ResponseWriter, r *http.Request) bool {
	org := ""
	if m := newOrgAppPath.FindStringSubmatch(r.URL.Path); m != nil {
		org = m[1]
	} else if !newAppPath.MatchString(r.URL.Path) {
		return false
	}
	if r.Method != http.MethodPost {
		http.Error(w, "githubsim: post the manifest here", http.StatusMethodNotAllowed)
		return true
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	raw := r.PostFormValue("manifest")
	m, err := parseAppManifest(raw)
	if err != nil {
		// GitHub shows the error on its page; the browser goes nowhere.
		http.Error(w, "Invalid GitHub App configuration: "+err.Error(), http.StatusUnprocessableEntity)
		return true
	}
	code := s.mintManifestCode(CreatedApp{Name: m.Name, Org: org, Manifest: json.RawMessage(raw)})
	to, _ := url.Parse(m.RedirectURL) // checked in parseAppManifest
	q := to.Query()
	q.Set("code", code)
	if st := r.URL.Query().Get("state"); st != "" {
		q.Set("state", st)
	}
	to.RawQuery = q.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound)
	return true
}

// parseAppManifest checks what GitHub requires of a manifest.
func parseAppManifest(raw string) (appManifest, error) {
	var m appManifest
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return m, fmt.Errorf("manifest is not JSON: %v", err)
	}
	switch {
	case strings.TrimSpace(m.Name) == "" || len(m.Name) > 34:
		return m, fmt.Errorf("name must be 1 to 34 characters")
	case !isHTTPURL(m.URL):
		return m, fmt.Errorf("url must be an http(s) URL")
	case m.HookAttributes == nil || !isHTTPURL(m.HookAttributes.URL):
		return m, fmt.Errorf("hook_attributes.url must be an http(s) URL")
	case !isHTTPURL(m.RedirectURL):
		return m, fmt.Errorf("redirect_url must be an http(s) URL")
	}
	for p, level := range m.Permissions {
		if level != "read" && level != "write" {
			return m, fmt.Errorf("permission %s: %q is neither read nor write", p, level)
		}
	}
	return m, nil
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func (s *Sim) mintManifestCode(app CreatedApp) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	code := hex.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flow.codes == nil {
		s.flow.codes = map[string]*manifestCode{}
	}
	s.flow.codes[code] = &manifestCode{app: app, expires: s.now().Add(manifestCodeTTL)}
	return code
}

// createFromManifest trades a code for the App's credentials: once, within
// the hour; otherwise 404, as GitHub answers. A name already taken is 422.
func createFromManifest(c *call) response {
	f := &c.sim.flow
	mc, ok := f.codes[c.param("code")]
	delete(f.codes, c.param("code")) // single use, whatever follows
	if !ok || !c.sim.now().Before(mc.expires) {
		return errorResponse(http.StatusNotFound, "Not Found")
	}
	if f.names[strings.ToLower(mc.app.Name)] {
		return response{status: http.StatusUnprocessableEntity, body: map[string]any{
			"message": "Validation Failed", "errors": []any{"Name has already been taken"},
			"documentation_url": "https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest",
		}}
	}
	if f.names == nil {
		f.names = map[string]bool{}
	}
	f.names[strings.ToLower(mc.app.Name)] = true
	f.created = append(f.created, mc.app)
	m, _ := parseAppManifest(string(mc.app.Manifest)) // checked when posted
	c.sim.webhookURL = m.HookAttributes.URL           // where the new App's webhooks go
	return response{status: http.StatusCreated, body: c.manifestApp(m, mc.app.Org)}
}

// manifestApp is the converted App: the simulator's own id, key and
// webhook secret, the manifest's name, permissions and events.
func (c *call) manifestApp(m appManifest, org string) map[string]any {
	s := c.sim
	owner := org
	if owner == "" {
		owner = webUser
	}
	obj := s.appObject(c.object(http.StatusCreated), integration{id: s.cfg.AppID, slug: s.cfg.AppSlug, name: m.Name, owner: owner})
	if org == "" {
		obj["owner"].(map[string]any)["type"] = "User"
	}
	perms := map[string]any{}
	for k, v := range m.Permissions {
		perms[k] = v
	}
	events := []any{}
	for _, e := range m.Events {
		events = append(events, e)
	}
	secret := make([]byte, 20)
	_, _ = rand.Read(secret)
	obj["permissions"], obj["events"] = perms, events
	obj["description"], obj["external_url"] = m.Description, m.URL
	obj["html_url"] = s.srv.URL + "/apps/" + s.cfg.AppSlug
	obj["created_at"], obj["updated_at"] = c.now(), c.now()
	obj["client_secret"] = hex.EncodeToString(secret)
	obj["webhook_secret"] = string(s.cfg.WebhookSecret)
	obj["pem"] = string(s.PrivateKeyPEM())
	return obj
}
