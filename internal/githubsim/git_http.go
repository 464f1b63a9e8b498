package githubsim

import (
	"net/http"
	"net/http/cgi"
	"os/exec"
	"path/filepath"
	"strings"
)

// gitPrefix is where the simulator serves repositories over git's smart
// HTTP protocol (github.com serves them at /OWNER/REPO.git).
const gitPrefix = "/git/"

// ServeGit serves a real repository (a bare one made by the test with the
// git CLI) as repo's git remote, through `git http-backend`, requiring an
// installation token that may see the repository, as GitHub does. Payloads
// then carry CloneURL as the repository's clone_url.
func (s *Sim) ServeGit(repo, bareDir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustRepo(repo).gitDir = bareDir
}

// CloneURL is repo's clone URL on the simulator.
func (s *Sim) CloneURL(repo string) string { return s.srv.URL + gitPrefix + repo + ".git" }

func (s *Sim) serveGit(w http.ResponseWriter, r *http.Request) {
	full, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, gitPrefix), ".git/")
	user, pass, _ := r.BasicAuth()
	s.mu.Lock()
	repo := s.repos[full]
	tok, known := s.tokens[pass]
	authorized := known && user == "x-access-token" && repo != nil && tok.installation == repo.Installation && s.now().Before(tok.expires)
	dir := ""
	if repo != nil {
		dir = repo.gitDir
	}
	s.mu.Unlock()
	switch {
	case !ok || dir == "":
		http.NotFound(w, r)
		return
	case !authorized:
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		http.Error(w, "Invalid username or token.", http.StatusUnauthorized)
		return
	}
	gitPath, err := exec.LookPath("git")
	if err != nil {
		s.t.Errorf("githubsim: git is needed to serve repositories: %v", err)
		http.Error(w, "no git", http.StatusInternalServerError)
		return
	}
	h := &cgi.Handler{Path: gitPath, Args: []string{"http-backend"}, Dir: dir,
		Env: []string{"GIT_PROJECT_ROOT=" + filepath.Dir(dir), "GIT_HTTP_EXPORT_ALL=1",
			"PATH_INFO=/" + filepath.Base(dir) + "/" + rest}}
	h.ServeHTTP(w, r)
}
