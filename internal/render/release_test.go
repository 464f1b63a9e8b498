package render

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/mdtest"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/release"
	"github.com/ferry-ci/ferry/internal/risk"
)

// history builds a real repository with the git CLI. Every commit has a
// fixed date, so its SHA (and the goldens) are the same on every run.
type history struct {
	t   *testing.T
	dir string
	n   int
}

func newHistory(t *testing.T) *history {
	h := &history{t: t, dir: t.TempDir()}
	h.git("", "init", "-q", "-b", "main")
	return h
}

// git runs git as author ("Name <email>"; "" is Ann Lee).
func (h *history) git(author string, args ...string) string {
	h.t.Helper()
	if author == "" {
		author = "Ann Lee <ann@example.com>"
	}
	name, email, _ := strings.Cut(strings.TrimSuffix(author, ">"), " <")
	h.n++
	date := fmt.Sprintf("2026-11-01T10:%02d:%02dZ", h.n/60, h.n%60)
	cmd := exec.Command("git", args...)
	cmd.Dir = h.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME="+name, "GIT_AUTHOR_EMAIL="+email, "GIT_COMMITTER_NAME=ci",
		"GIT_COMMITTER_EMAIL=ci@example.com", "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date,
		"GIT_CONFIG_NOSYSTEM=1", "HOME="+h.dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		h.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files ("path" → content) and commits them.
func (h *history) commit(author, msg string, files ...string) string {
	h.t.Helper()
	for _, f := range files {
		p := filepath.Join(h.dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			h.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf("%s %d\n", f, h.n)), 0o644); err != nil {
			h.t.Fatal(err)
		}
	}
	h.git(author, "add", "-A")
	h.git(author, "commit", "-q", "--allow-empty", "-m", msg)
	return h.git("", "rev-parse", "HEAD")
}

// base starts a history with an initial release, v1.2.0, by Ann.
func (h *history) base() {
	h.commit("", "initial", "README.md", "go.mod", "cmd/app/main.go", "services/api/main.go", "web/src/app.ts")
	h.git("", "tag", "-a", "-m", "release 1.2.0", "v1.2.0")
}

// read reads the range since tag as the CLI does.
func (h *history) read(tag string) ([]release.Commit, []string) {
	h.t.Helper()
	g, err := git.Open(h.dir)
	if err != nil {
		h.t.Fatal(err)
	}
	head, err := g.Resolve("HEAD")
	if err != nil {
		h.t.Fatal(err)
	}
	base, err := g.Resolve(tag)
	if err != nil {
		h.t.Fatal(err)
	}
	r, err := g.ReleaseRange(context.Background(), base, head)
	if err != nil {
		h.t.Fatal(err)
	}
	return r.Commits, r.Earlier
}

const (
	bob   = "Bob Stone <bob@example.com>"
	carol = "Carol <12345+carol-dev@users.noreply.github.com>"
	bot   = "dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>"
)

// releaseHistories are the histories the goldens show, each with the
// release configuration and input it is read with.
func releaseHistories(t *testing.T) map[string]func() release.Input {
	return map[string]func() release.Input{
		"conventional": func() release.Input { return conventional(t) },
		"labels":       func() release.Input { return labelled(t) },
		"unstructured": func() release.Input { return unstructured(t) },
		"merges":       func() release.Input { return merges(t) },
		"reverts":      func() release.Input { return reverts(t) },
		"breaking":     func() release.Input { return breaking(t) },
	}
}

// conventional: squash merges with Conventional Commits subjects.
func conventional(t *testing.T) release.Input {
	h := newHistory(t)
	h.base()
	h.commit(bob, "feat(api): add login with passkeys (#101)\n\n* feat(api): passkeys\n\n* test: cover", "services/api/login.go", "services/api/login_test.go")
	h.commit("", "fix: handle an empty cart (#102)", "cmd/app/cart.go")
	h.commit(carol, "perf(db): batch inserts (#103)", "cmd/app/db.go")
	h.commit("", "docs: explain passkeys (#104)", "docs/passkeys.md")
	h.commit(bot, "chore(deps): bump golang.org/x/net from 0.58.0 to 0.61.0 (#105)", "go.mod", "go.sum")
	h.commit("", "chore: tidy (#106)", "Makefile")
	h.commit(bob, "feat(api): accept the old config keys (#107)", "services/api/config/keys.yaml")
	cs, earlier := h.read("v1.2.0")
	cfg := release.DefaultConfig()
	cfg.Noise = []release.Noise{{Author: "dependabot[bot]", Sections: []string{"chore"}}}
	return release.Input{Commits: cs, Previous: "v1.2.0", PreviousContributors: earlier, Config: cfg}
}

// labelled: what the GitHub agent supplies — pull requests with labels,
// titles and logins, risk levels and environments reached — on a history
// whose subjects say nothing structured.
func labelled(t *testing.T) release.Input {
	h := newHistory(t)
	h.base()
	h.commit(bob, "Passkeys (#201)", "services/api/login.go")
	h.commit("", "Cart crash (#202)", "cmd/app/cart.go")
	h.commit(carol, "New config loader (#203)", "cmd/app/config.go")
	h.commit("", "Internal cleanup (#204)", "cmd/app/x.go")
	cs, earlier := h.read("v1.2.0")
	labels := map[int][]string{201: {"enhancement"}, 202: {"bug"}, 203: {"enhancement", "breaking-change"}, 204: {"skip-changelog"}}
	logins := map[string]string{"Bob Stone": "bobstone", "Ann Lee": "annlee"}
	levels := []risk.Level{risk.Medium, risk.Low, risk.High, risk.Low}
	for i := range cs {
		_, cs[i].PR = release.SubjectPR(release.Subject(cs[i].Message))
		cs[i].Labels, cs[i].Author.Login = labels[cs[i].PR], logins[cs[i].Author.Name]
		cs[i].PRTitle = map[int]string{201: "Sign in with passkeys", 202: "Fix the crash on an empty cart"}[cs[i].PR]
		cs[i].Risk, cs[i].Environments = levels[i], []string{"staging"}
	}
	cs[1].Environments = []string{"staging", "production"}
	return release.Input{Commits: cs, Previous: "v1.2.0", PreviousContributors: append(earlier, "annlee"), Config: release.DefaultConfig()}
}

// unstructured: no types, no labels — the files' classes and a subject's
// first word decide.
func unstructured(t *testing.T) release.Input {
	h := newHistory(t)
	h.base()
	h.commit("", "Add a search page", "cmd/app/search.go")
	h.commit(bob, "Fix the crash on empty input", "cmd/app/input.go")
	h.commit("", "Update README.md", "README.md")
	h.commit("", "Add parser tests", "cmd/app/parse_test.go", "cmd/app/testdata/a.txt")
	h.commit(bot, "Bump lodash from 4.17.20 to 4.17.21", "web/package.json", "web/yarn.lock")
	h.commit("", "Add users.email", "db/migrations/0042_users_email.sql", "cmd/app/users.go")
	h.commit("", "Cache modules in CI", ".github/workflows/ci.yml")
	h.commit("", "Expose the orders API", "api/orders.proto", "cmd/app/orders.go")
	h.commit("", "tsdb: compact faster", "tsdb/compact.go")
	cs, earlier := h.read("v1.2.0")
	return release.Input{Commits: cs, Previous: "v1.2.0", PreviousContributors: earlier, Config: release.DefaultConfig()}
}

// merges: a merge commit with two side commits (and a merge from main
// into the branch), a squash merge, and a rebase merge of two commits
// that only the caller can tie to their pull request.
func merges(t *testing.T) release.Input {
	h := newHistory(t)
	h.base()
	h.git("", "checkout", "-q", "-b", "export")
	h.commit(carol, "Add CSV export", "cmd/app/export.go")
	h.git("", "checkout", "-q", "main")
	h.commit("", "fix: close files (#301)", "cmd/app/files.go")
	h.git("", "checkout", "-q", "export")
	h.git("", "merge", "-q", "--no-ff", "-m", "Merge branch 'main' into export", "main")
	h.commit(carol, "Stream large exports", "cmd/app/export_stream.go")
	h.git("", "checkout", "-q", "main")
	h.git(bob, "merge", "-q", "--no-ff", "-m", "Merge pull request #302 from carol-dev/export\n\nfeat(export): CSV export", "export")
	h.commit(bob, "feat(api): add pagination", "services/api/page.go")
	h.commit(bob, "test(api): cover pagination", "services/api/page_test.go")
	cs, earlier := h.read("v1.2.0")
	for i := range cs {
		if s := release.Subject(cs[i].Message); strings.Contains(s, "pagination") {
			cs[i].PR, cs[i].PRTitle = 303, "Paginate the list endpoints" // GitHub: the PR associated with the commit
		}
	}
	return release.Input{Commits: cs, Previous: "v1.2.0", PreviousContributors: earlier, Config: release.DefaultConfig()}
}

// reverts: a change reverted within the release (neither is shown), a
// revert of a revert (the change is back), and a revert of a change the
// previous release shipped (shown, naming it).
func reverts(t *testing.T) release.Input {
	h := newHistory(t)
	h.commit("", "initial", "README.md")
	h.commit("", "feat: dark mode (#401)", "web/theme.ts")
	h.git("", "tag", "v1.2.0")
	h.commit("", "feat: beta banner (#402)", "web/banner.ts")
	h.commit("", "fix: keep sessions (#403)", "cmd/app/session.go")
	banner := h.git("", "log", "-1", "--format=%H", "--grep=beta banner")
	h.git(bob, "revert", "--no-edit", banner)
	h.commit("", "feat: search (#404)", "cmd/app/search.go")
	h.git(bob, "revert", "--no-edit", "HEAD")
	h.git(bob, "revert", "--no-edit", "HEAD")
	dark := h.git("", "log", "-1", "--format=%H", "--grep=dark mode")
	h.git(carol, "revert", "--no-edit", dark)
	cs, earlier := h.read("v1.2.0")
	return release.Input{Commits: cs, Previous: "v1.2.0", PreviousContributors: earlier, Config: release.DefaultConfig()}
}

// breaking: a breaking-change footer on an otherwise ordinary refactor,
// a "!" header, and a configuration change nothing calls breaking.
func breaking(t *testing.T) release.Input {
	h := newHistory(t)
	h.base()
	h.commit("", "refactor(config): rename the listen key (#501)\n\nBREAKING CHANGE: `listen` is now `address`; the old key is\nignored.\n\nSigned-off-by: Ann Lee <ann@example.com>", "cmd/app/config.go")
	h.commit(bob, "feat(api)!: drop the v1 endpoints (#502)", "services/api/v1.go")
	h.commit(bob, "fix: default timeout (#503)", "config/defaults.yaml")
	cs, earlier := h.read("v1.2.0")
	return release.Input{Commits: cs, Previous: "v1.2.0", PreviousContributors: earlier, Config: release.DefaultConfig()}
}

func TestReleaseGolden(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for name, input := range releaseHistories(t) {
		t.Run(name, func(t *testing.T) {
			n, err := release.Build(input())
			if err != nil {
				t.Fatal(err)
			}
			releaseGoldens(t, r, "release-"+name, n)
		})
	}
}

// releaseGoldens compares the notes, the changelog section and the JSON.
func releaseGoldens(t *testing.T, r *Renderer, name string, n release.Notes) {
	t.Helper()
	v := NewReleaseView(n)
	notes, err := r.ReleaseNotes(v)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, name+".md", notes)
	section, err := r.ReleaseChangelog(v)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, name+"-changelog.md", section)
	js, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, name+".json", string(js)+"\n")
}

// TestReleaseMonorepo: two components, each with its own tag pattern and
// range; an entry belongs to the components whose paths it touches.
func TestReleaseMonorepo(t *testing.T) {
	h := newHistory(t)
	h.base()
	h.git("", "tag", "api-v0.4.0")
	h.git("", "tag", "web-v2.0.0")
	h.commit(bob, "feat(api): orders endpoint (#601)", "services/api/orders.go")
	h.commit("", "fix(web): button colour (#602)", "web/src/button.ts")
	h.commit("", "feat!: one login for both (#603)", "services/api/login.go", "web/src/login.ts")
	h.commit("", "docs: root readme (#604)", "README.md")
	cfg := release.DefaultConfig()
	cfg.Components = []release.Component{
		{Name: "api", Paths: []policy.Glob{policy.NewGlob("services/api/**")}, TagPattern: "api-v{version}"},
		{Name: "web", Paths: []policy.Glob{policy.NewGlob("web/**")}, TagPattern: "web-v{version}"},
	}
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, comp := range []string{"api", "web"} {
		cs, earlier := h.read(comp + "-v" + map[string]string{"api": "0.4.0", "web": "2.0.0"}[comp])
		n, err := release.Build(release.Input{Commits: cs, Previous: comp + "-v" + map[string]string{"api": "0.4.0", "web": "2.0.0"}[comp],
			PreviousContributors: earlier, Component: comp, Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		releaseGoldens(t, r, "release-monorepo-"+comp, n)
	}
}

// TestAttack_ReleaseNotesMarkdown: commit subjects, scopes, breaking
// notes, labels and the sections they name, logins, names, environments,
// component and tag names chosen to break out of the notes' Markdown
// render as inert text, in the notes and in the changelog section.
func TestAttack_ReleaseNotesMarkdown(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	cfg := release.DefaultConfig()
	cfg.TagPattern = "{version}" + mdtest.Hostile[3]
	cfg.Labels = map[string]string{}
	cfg.SkipLabels = []string{mdtest.Hostile[2]}
	cfg.Components = []release.Component{{Name: mdtest.Hostile[1], Paths: []policy.Glob{policy.NewGlob("**")}, TagPattern: cfg.TagPattern}}
	var cs []release.Commit
	parent := []string{}
	for i, h := range mdtest.Hostile {
		sha := func(k int) string { return fmt.Sprintf("%02x%02xabcdef%030x", i, k, i) }
		label := fmt.Sprintf("label %d %s", i, h)
		cfg.Labels[label] = "section " + h
		cs = append(cs,
			release.Commit{SHA: sha(1), Parents: parent, Message: h, Files: []string{"src/" + h},
				Author: release.Author{Login: h}, Labels: []string{label}, Environments: []string{h}, PR: i + 1},
			release.Commit{SHA: sha(2), Parents: []string{sha(1)}, Message: "feat(" + h + ")!: " + h + "\n\nBREAKING CHANGE: " + h,
				Files: []string{"src/" + h}, Author: release.Author{Name: h, Email: h}},
			release.Commit{SHA: sha(3), Parents: []string{sha(2)}, Message: "fix: x",
				Author: release.Author{Name: "bot"}, Labels: []string{mdtest.Hostile[2]}, PR: 1000 + i})
		parent = []string{sha(3)}
	}
	n, err := release.Build(release.Input{Commits: cs, Previous: "1.0.0" + mdtest.Hostile[3], Component: mdtest.Hostile[1],
		PreviousContributors: []string{}, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	v := NewReleaseView(n)
	notes, err := r.ReleaseNotes(v)
	if err != nil {
		t.Fatal(err)
	}
	section, err := r.ReleaseChangelog(v)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "release-hostile.md", notes)
	for name, out := range map[string]string{"notes": notes, "changelog": section} {
		for _, p := range mdtest.Problems(out) {
			t.Errorf("%s: %s", name, p)
		}
	}
	for _, h := range []string{"evil.example/login", "org/all", "alert(1)"} {
		if !strings.Contains(notes, h) {
			t.Errorf("notes hide %q", h)
		}
	}
}
