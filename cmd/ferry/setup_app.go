package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
	"sigs.k8s.io/yaml"
)

// setupManifest is ferry's App manifest (manifest/github-app.json) with
// this installation's name and addresses. The permissions and events stay
// the file's own: the least the enabled features need, reviewed there.
func setupManifest(base []byte, name, publicURL, redirectURL string) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(base, &m); err != nil {
		return nil, fmt.Errorf("read the App manifest: %w", err)
	}
	hook, _ := m["hook_attributes"].(map[string]any)
	if hook == nil {
		hook = map[string]any{"active": true}
	}
	hook["url"] = publicURL + "/webhook"
	m["hook_attributes"] = hook
	m["name"], m["url"], m["redirect_url"] = name, publicURL, redirectURL
	out, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("write the App manifest: %w", err)
	}
	return out, nil
}

// appCredentials are what GitHub returns once for a new App. Never log them.
type appCredentials struct {
	ID                  int64
	Name, Slug, HTMLURL string
	ClientID            string
	ClientSecret        string
	WebhookSecret       string
	PEM                 string
}

// credentialFiles are the credentials as files (and Secret keys), in the
// order they are written.
func (a *appCredentials) credentialFiles() []secretFile {
	return []secretFile{
		{"app-id", strconv.FormatInt(a.ID, 10)},
		{"private-key.pem", a.PEM},
		{"webhook-secret", a.WebhookSecret},
		{"client-id", a.ClientID},
		{"client-secret", a.ClientSecret},
	}
}

type secretFile struct{ name, content string }

// credentialNames are the files setup writes (the Secret's keys).
var credentialNames = []string{"app-id", "private-key.pem", "webhook-secret", "client-id", "client-secret"}

// manifestCode is the shape of the code GitHub puts in the redirect; it
// goes into the conversion's path, so nothing else is let through.
var manifestCode = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// convertManifest trades the one-time code for the new App's credentials
// (POST /app-manifests/{code}/conversions, which needs no authentication).
func convertManifest(ctx context.Context, apiURL, code string) (*appCredentials, error) {
	base, err := url.Parse(apiURL)
	if err != nil {
		return nil, fmt.Errorf("github api url: %w", err)
	}
	client := gh.NewClient(&http.Client{Timeout: 60 * time.Second})
	client.BaseURL, client.UserAgent = base, "ferry"
	cfg, _, err := client.Apps.CompleteAppManifest(ctx, url.PathEscape(code))
	if err != nil {
		return nil, conversionError(err)
	}
	app := &appCredentials{
		ID: cfg.GetID(), Name: cfg.GetName(), Slug: cfg.GetSlug(), HTMLURL: cfg.GetHTMLURL(),
		ClientID: cfg.GetClientID(), ClientSecret: cfg.GetClientSecret(),
		WebhookSecret: cfg.GetWebhookSecret(), PEM: cfg.GetPEM(),
	}
	if err := app.check(); err != nil {
		return app, fmt.Errorf("GitHub created the App %q (id %d) but %w", app.Name, app.ID, err)
	}
	return app, nil
}

// conversionError says what a failed conversion means for the person
// running setup.
func conversionError(err error) error {
	var er *gh.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return fmt.Errorf("convert the App manifest code: %w", err)
	}
	switch er.Response.StatusCode {
	case http.StatusNotFound:
		return fmt.Errorf("GitHub does not know this App manifest code: it was already used, or it expired (a code is good once, for one hour); run ferry setup again")
	case http.StatusUnprocessableEntity:
		msgs := []string{er.Message}
		for _, e := range er.Errors {
			msgs = append(msgs, e.Message)
		}
		return fmt.Errorf("GitHub refused to create the App (%s): GitHub App names are unique across all of GitHub, choose another with --name", strings.Join(msgs, "; "))
	}
	return fmt.Errorf("convert the App manifest code: %w", err)
}

// check refuses credentials ferry serve could not run with.
func (a *appCredentials) check() error {
	switch {
	case a.ID <= 0:
		return fmt.Errorf("returned no App id")
	case len(a.WebhookSecret) < minSecret:
		return fmt.Errorf("returned no usable webhook secret: set one in the App's settings (%s)", a.HTMLURL)
	}
	if err := checkRSAKey([]byte(a.PEM)); err != nil {
		return fmt.Errorf("returned a private key ferry cannot use (%v): generate one in the App's settings (%s)", err, a.HTMLURL)
	}
	return nil
}

// installURL is where the owner installs the new App on repositories.
func (a *appCredentials) installURL(githubURL string) string {
	if u, err := url.Parse(a.HTMLURL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		return strings.TrimSuffix(a.HTMLURL, "/") + "/installations/new"
	}
	return githubURL + "/apps/" + url.PathEscape(a.Slug) + "/installations/new"
}

// prepareCredentialDir makes dir (0700) and, unless force, refuses when a
// credential file is already there: checked before GitHub creates anything,
// because a new App's key and secrets are shown only once.
func prepareCredentialDir(dir string, force bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return settingError("out", "FERRY_SETUP_OUT", "cannot create %s: %v", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return settingError("out", "FERRY_SETUP_OUT", "%v", err)
	}
	if !fi.IsDir() {
		return settingError("out", "FERRY_SETUP_OUT", "%s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return settingError("out", "FERRY_SETUP_OUT", "%s is open to other users (mode %v): chmod 700 it or choose another directory", dir, fi.Mode().Perm())
	}
	if force {
		return nil
	}
	for _, name := range credentialNames {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return settingError("out", "FERRY_SETUP_OUT", "%s already exists: pass --force to replace it, or choose another directory", filepath.Join(dir, name))
		}
	}
	return nil
}

// writeCredentials writes each file with mode 0600. A file replaced (with
// force) is removed first: a new file gets 0600 where an old one kept its
// mode, and O_EXCL never follows a link planted in its place.
func writeCredentials(dir string, files []secretFile, force bool) error {
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if force {
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("replace %s: %w", path, err)
			}
		}
		fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		_, err = io.WriteString(fh, f.content)
		if serr := fh.Sync(); err == nil {
			err = serr
		}
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

// k8sSecretName is the Secret --format k8s-secret prints.
const k8sSecretName = "ferry-github"

// k8sSecret is a v1 Secret holding the credentials under their file names.
func k8sSecret(files []secretFile) ([]byte, error) {
	data := map[string]string{}
	for _, f := range files {
		data[f.name] = f.content
	}
	b, err := yaml.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata":   map[string]any{"name": k8sSecretName},
		"stringData": data,
	})
	if err != nil {
		return nil, fmt.Errorf("write the Kubernetes Secret: %w", err)
	}
	return append([]byte("# ferry's GitHub App credentials, in clear: apply it (kubectl apply -f -), never commit it.\n"), b...), nil
}
