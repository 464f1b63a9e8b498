package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/gittest"
	"github.com/ferry-ci/ferry/internal/kubetest"
	"github.com/ferry-ci/ferry/internal/promotion"
	"github.com/ferry-ci/ferry/internal/promtest"
	"github.com/ferry-ci/ferry/internal/store"
)

// promoteWorld is a repository whose staging deploys automatically and
// whose production ships through ferry's production-deploy pull request:
// real git history (the simulator serves it), a real control plane with a
// namespace per environment, ferry's real store.
type promoteWorld struct {
	t             *testing.T
	sim           *githubsim.Sim
	repoID        int64
	git           *gittest.Repo
	bare          string
	cs            kubernetes.Interface
	staging, prod string // namespaces
	db            *store.DB
	dsn           string
	root, tip     string
	prodExtra     []string // production's policy lines beyond the defaults
	serveArgs     []string
	numbers       map[string]int // the changes' pull requests, by title
	fromBranch    bool           // production promotes from the default branch, not staging
}

func newPromoteWorld(t *testing.T, prodExtra ...string) *promoteWorld {
	w := &promoteWorld{t: t, git: gittest.New(t), bare: filepath.Join(t.TempDir(), "api.git"), prodExtra: prodExtra, numbers: map[string]int{}}
	w.cs = kubetest.Client(t)
	w.staging, w.prod = kubetest.Namespace(t, w.cs), kubetest.Namespace(t, w.cs)
	w.sim, w.repoID = newSim(t)
	w.root = w.git.Commit("chore: initial", map[string]string{"api/main.go": "package main\n"})
	w.tip = w.root
	w.git.Publish(w.bare)
	w.sim.ServeGit("acme/api", w.bare)
	w.sim.AddCommit("acme/api", w.root)
	w.sim.SetBranch("acme/api", "main", w.root)
	w.sim.SetFile("acme/api", "main", ".github/ferry.yml", w.policy())
	kubetest.App(t, w.cs, w.staging, "api", "ghcr.io/acme/api:"+w.root[:8], 2)
	kubetest.App(t, w.cs, w.prod, "api", "ghcr.io/acme/api:"+w.root[:8], 2)
	for _, login := range []string{"carol", "alice", "bob"} {
		w.sim.SetPermission("acme/api", login, "maintain")
	}
	w.dsn = dbtest.SQLiteURL(t)
	w.serveArgs = []string{"--database=" + w.dsn, "--git-cache-dir=" + t.TempDir(), "--kubeconfig=" + kubetest.Kubeconfig(t), "--deploy-allow=*=*"}
	w.db = dbtest.Open(t, w.dsn)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		rows, _ := w.db.SQL().Query(`SELECT event, action, status, error FROM deliveries`)
		for rows != nil && rows.Next() {
			var e, a, st, er string
			_ = rows.Scan(&e, &a, &st, &er)
			t.Logf("delivery %s.%s %s %s", e, a, st, er)
		}
		for _, env := range []string{"staging", "production"} {
			for _, d := range w.deploys(env) {
				t.Logf("deploy %s %s %s %s %s: %s", d.ID, env, d.SHA[:8], d.Status, d.EndCause, d.Message)
			}
		}
		for _, p := range w.prodPRs() {
			t.Logf("pull request #%d %s head %s:\n%s", p.Number, p.State, p.HeadSHA[:8], p.Body)
		}
	})
	return w
}

func (w *promoteWorld) start(extra ...string) {
	startWithSim(w.t, w.sim, append(w.serveArgs, extra...)...)
}

func (w *promoteWorld) policy() string {
	canary, from := "    canary: {steps: [50, 100], pause: 1s}\n", "    promote_from: staging\n"
	if slices.ContainsFunc(w.prodExtra, func(l string) bool { return strings.HasPrefix(l, "    canary:") }) {
		canary = ""
	}
	if w.fromBranch {
		from = ""
	}
	return "version: 1\nenvironments:\n  staging:\n    namespace: " + w.staging + "\n    deployments: [{name: api}]\n" +
		"    image: \"ghcr.io/acme/api:{{ .ShortSHA }}\"\n    auto_deploy: true\n    strategy: rolling\n    progress_deadline: 60s\n" +
		"  production:\n    namespace: " + w.prod + "\n    deployments: [{name: api}]\n    image: \"ghcr.io/acme/api:{{ .ShortSHA }}\"\n" +
		"    promote: pull_request\n" + from + "    progress_deadline: 60s\n" + canary + strings.Join(w.prodExtra, "\n") + "\n"
}

// merge lands a pull request by author on main as a squash commit (its
// files in git, its patch in the simulator), lets ferry assess the push,
// turns CI green and waits for the staging deploy of it to succeed. It
// returns the commit, and records the pull request's number under title.
func (w *promoteWorld) merge(author, title string, files map[string]string) string {
	w.t.Helper()
	return w.land(author, title, files, true)
}

// mergeClaiming lands a commit whose message is message as it is, from no
// pull request (a push straight to main), and deploys it to staging.
func (w *promoteWorld) mergeClaiming(author, message string, files map[string]string) string {
	w.t.Helper()
	return w.land(author, message, files, false)
}

func (w *promoteWorld) land(author, title string, files map[string]string, viaPR bool) string {
	w.t.Helper()
	var simFiles []githubsim.File
	for path := range files {
		simFiles = append(simFiles, githubsim.File{Filename: path, Status: "added", Additions: 1, Patch: "@@ -0,0 +1 @@\n+" + path})
	}
	message, n := title, 0
	if viaPR {
		n = w.sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: title, User: author, Head: "topic-" + author, Base: "main", Files: simFiles})
		w.numbers[title] = n
		message = fmt.Sprintf("%s (#%d)", title, n)
	}
	sha := w.git.Commit(message, files)
	if viaPR {
		w.sim.MergedAs("acme/api", n, sha, "carol") // squash-merged by a maintainer
	}
	w.git.Publish(w.bare)
	before := w.tip
	w.sim.AddCommit("acme/api", sha, before)
	w.sim.AddComparison("acme/api", before, sha, simFiles, nil)
	w.sim.SetBranch("acme/api", "main", sha)
	w.tip = sha
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	if _, status := w.sim.Push("acme/api", "main", before, sha, []githubsim.PushCommit{{SHA: sha, Message: title, Author: author, Modified: paths}}); status != http.StatusAccepted {
		w.t.Fatalf("push answered %d", status)
	}
	waitFor(w.t, "the push of "+title+" assessed", func() bool { return len(checkRunsOn(w.sim, "acme/api", sha)) == 1 })
	w.sim.CheckSuiteCompleted("acme/api", "main", sha, "success")
	if w.fromBranch {
		return sha
	}
	waitFor(w.t, "staging to run "+title, func() bool {
		d := w.deploys("staging")
		return len(d) > 0 && d[0].SHA == sha && d[0].Status == deploy.Succeeded
	})
	return sha
}

// row is how the body names a change.
func (w *promoteWorld) row(title string) string {
	return fmt.Sprintf("| #%d %s |", w.numbers[title], title)
}

func (w *promoteWorld) deploys(env string) []deploy.Deploy {
	ds, _ := w.db.Deploys(context.Background(), w.repoID, env)
	return ds
}

// prodPRs are ferry's production-deploy pull requests, oldest first.
func (w *promoteWorld) prodPRs() []githubsim.PullRequest {
	var out []githubsim.PullRequest
	for _, p := range w.sim.PullRequests("acme/api") {
		if p.Head == "ferry/promote/production" {
			out = append(out, p)
		}
	}
	return out
}

// openPR waits for the one open production-deploy pull request whose head
// holds sha's changes and whose body satisfies ok.
func (w *promoteWorld) openPR(what string, ok func(githubsim.PullRequest) bool) githubsim.PullRequest {
	w.t.Helper()
	var got githubsim.PullRequest
	waitFor(w.t, what, func() bool {
		for _, p := range w.prodPRs() {
			if p.State == "open" && ok(p) {
				got = p
				return true
			}
		}
		return false
	})
	return got
}

// mergePR merges the production-deploy pull request as login and sends
// the event.
func (w *promoteWorld) mergePR(number int, login string) {
	w.t.Helper()
	w.sim.MergePullRequest("acme/api", number, login)
	if _, status := w.sim.PullRequestClosed("acme/api", number); status != http.StatusAccepted {
		w.t.Fatalf("pull_request closed answered %d", status)
	}
}

func (w *promoteWorld) promotion(number int) promotion.PR {
	p, _ := w.db.Promotion(context.Background(), w.repoID, number)
	return p
}

func (w *promoteWorld) prodImages() map[string]int {
	return kubetest.Images(w.t, w.cs, w.prod, "app=api")
}

// withMetrics gives production a canary analysis on a test application
// Prometheus scrapes (healthy until the test says otherwise).
func (w *promoteWorld) withMetrics(t *testing.T) *promtest.App {
	name := strings.ReplaceAll("promote-"+time.Now().Format("150405.000000"), ".", "")
	app := promtest.StartApp(t, name, 40, map[string]promtest.Behaviour{
		"stable": {Latency: 50 * time.Millisecond}, "canary": {Latency: 50 * time.Millisecond}}, map[string]string{"namespace": w.prod})
	sel := `namespace="{{ .Namespace }}",app="` + name + `",track="{{ .Track }}"`
	w.prodExtra = append(w.prodExtra, "    strategy: canary", "    canary: {steps: [50, 100], pause: 60s}", "    analysis:", "      interval: 1s", "      window: 5s",
		"      fail_after: 2", "      metrics:", "        - name: error rate", "          max: 0.05",
		`          query: '(sum(rate(http_requests_total{`+sel+`,code="500"}[{{ .Window }}])) or vector(0)) / sum(rate(http_requests_total{`+sel+`}[{{ .Window }}]))'`)
	w.sim.SetFile("acme/api", "main", ".github/ferry.yml", w.policy())
	w.serveArgs = append(w.serveArgs, "--prometheus-url="+promtest.URL(t))
	return app
}

// logFirstStep reports how long after the merge the deploy's first step
// was sent (the figure the production-deploy pull request is measured by).
func (w *promoteWorld) logFirstStep(d deploy.Deploy, merged time.Time) {
	w.t.Helper()
	steps, err := w.db.DeploySteps(context.Background(), d.ID)
	if err != nil || len(steps) == 0 {
		w.t.Fatalf("steps %v %v", steps, err)
	}
	w.t.Logf("merge to first step: %s (deploy started %s after the merge)", steps[0].AppliedAt.Sub(merged).Round(time.Millisecond),
		d.StartedAt.Sub(merged).Round(time.Millisecond))
}
