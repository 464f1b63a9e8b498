package main

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/buildagent"
	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/dockerfile"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/gittest"
	"github.com/ferry-ci/ferry/internal/mdtest"
)

// dockerWorld is a repository with Dockerfiles on main, served over git by
// the simulator.
func dockerWorld(t *testing.T, files map[string]string) (*githubsim.Sim, *gittest.Repo, string) {
	t.Helper()
	r := gittest.New(t)
	tip := r.Commit("initial", files)
	bare := filepath.Join(t.TempDir(), "api.git")
	r.Publish(bare)
	sim, _ := newSim(t)
	sim.ServeGit("acme/api", bare)
	sim.AddCommit("acme/api", tip)
	sim.SetBranch("acme/api", "main", tip)
	sim.SetPermission("acme/api", "max", "write")
	return sim, r, bare
}

var dockerFiles = map[string]string{
	"Dockerfile": "FROM debian:latest\nRUN apt-get update\nRUN apt-get install -y curl ca-certificates\n" +
		"COPY app /usr/local/bin/app\nUSER 10001\nENTRYPOINT [\"app\"]\n",
	"web/Dockerfile":        "FROM node:20-bookworm-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER node\nEXPOSE 3000\nCMD [\"node\", \"server.js\"]\n",
	"web/package.json":      `{"name": "web", "scripts": {"start": "node server.js"}}`,
	"web/package-lock.json": `{"lockfileVersion": 3}`,
	"web/.dockerignore":     "node_modules\n",
	"tools/Dockerfile":      "FROM alpine\nCMD [\"sh\"]\n", // suggestions only
	"app":                   "#!/bin/sh\n",
}

// TestE2E_OptimizeDockerfile: /ferry optimize-dockerfile reads main's
// Dockerfiles with git, proves each rewrite (parses, converts to LLB, same
// image config, fewer findings) and opens one pull request with one commit
// per rewritten Dockerfile and a body explaining each change; asked again
// it updates that pull request, never a second one; once closed, the same
// rewrites are not proposed again.
func TestE2E_OptimizeDockerfile(t *testing.T) {
	sim, repo, bare := dockerWorld(t, dockerFiles)
	startWithSim(t, sim, "--git-cache-dir="+t.TempDir())
	n := sim.AddIssue("acme/api", "Docker builds are slow")

	// GitHub opens the pull request and its answer is lost: the job's
	// retry finds it, and opens no second one.
	sim.Inject(githubsim.Fault{Method: http.MethodPost, Path: "^/repos/acme/api/pulls$", Status: http.StatusBadGateway, Applied: true})
	reply, ok := command(t, sim, "acme/api", n, "max", "/ferry optimize-dockerfile")
	if !ok || !strings.Contains(reply, "proposes these rewrites already") {
		for _, c := range sim.Comments("acme/api", n) {
			t.Logf("comment by %s: %s", c.User, c.Body)
		}
		t.Fatalf("reply %q ok=%t", reply, ok)
	}
	prs := headed(sim, buildagent.Branch)
	if len(prs) != 1 || prs[0].Base != "main" {
		t.Fatalf("pull requests %+v", prs)
	}
	pr := prs[0]
	files := sim.TreeFiles("acme/api", pr.HeadSHA)
	root, web := files["Dockerfile"], files["web/Dockerfile"]
	if !strings.Contains(root, "apt-get update \\\n    && apt-get install -y curl ca-certificates \\\n    && rm -rf /var/lib/apt/lists/*") ||
		!strings.Contains(web, "COPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .") {
		t.Fatalf("rewritten:\n%s\n---\n%s", root, web)
	}
	// One commit per Dockerfile, on main.
	parents := sim.CommitParents("acme/api", pr.HeadSHA)
	if len(parents) != 1 || len(sim.CommitParents("acme/api", parents[0])) != 1 || sim.CommitParents("acme/api", parents[0])[0] != sim.Ref("acme/api", "heads/main") {
		t.Fatalf("commits: head %s parents %v", pr.HeadSHA, parents)
	}
	// Each rewrite proven again here, with the real parser and converter.
	for _, p := range []string{"Dockerfile", "web/Dockerfile"} {
		f, err := dockerfile.Parse([]byte(files[p]))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if _, err := dockerfile.Contracts(t.Context(), f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	for _, want := range []string{"hadolint DL3009", "Sources copied before dependencies are installed", "parses ✓ · LLB ✓ · contract ✓ · fewer findings ✓",
		"suggestions ferry did not apply", "Base image not pinned"} {
		if !strings.Contains(pr.Body, want) {
			t.Fatalf("body lacks %q:\n%s", want, pr.Body)
		}
	}
	if p := mdtest.Problems(pr.Body); len(p) > 0 {
		t.Fatalf("the body renders %v", p)
	}

	// Asked again with nothing new: the same pull request, not pushed again.
	if reply, ok := command(t, sim, "acme/api", n, "max", "/ferry optimize-dockerfile"); !ok || !strings.Contains(reply, "proposes these rewrites already") {
		t.Fatalf("again: %q", reply)
	}
	if prs := headed(sim, buildagent.Branch); len(prs) != 1 || prs[0].HeadSHA != pr.HeadSHA {
		t.Fatalf("pull requests after a second ask: %+v", prs)
	}
	// main moves on: the same pull request, updated in place.
	tip := repo.Commit("tools", map[string]string{"tools/Dockerfile": "FROM alpine:3.22\nRUN apk add curl\nUSER 1\n"})
	repo.Publish(bare)
	sim.AddCommit("acme/api", tip)
	sim.SetBranch("acme/api", "main", tip)
	if reply, ok := command(t, sim, "acme/api", n, "max", "/ferry optimize-dockerfile"); !ok || !strings.Contains(reply, "updated #") ||
		!strings.Contains(reply, "rewrites of 3 of 3") {
		t.Fatalf("after main moved: %q", reply)
	}
	prs = headed(sim, buildagent.Branch)
	if len(prs) != 1 || prs[0].HeadSHA == pr.HeadSHA || !strings.Contains(sim.TreeFiles("acme/api", prs[0].HeadSHA)["tools/Dockerfile"], "apk add --no-cache curl") {
		t.Fatalf("pull requests after main moved: %+v", prs)
	}
	pr = prs[0]
	// Closed: the same rewrites are not proposed again.
	sim.PullRequestClosed("acme/api", pr.Number)
	if reply, ok := command(t, sim, "acme/api", n, "max", "/ferry optimize-dockerfile"); !ok || !strings.Contains(reply, "was closed") {
		t.Fatalf("after closing: %q", reply)
	}
	if prs := headed(sim, buildagent.Branch); len(prs) != 1 || prs[0].State != "closed" {
		t.Fatalf("pull requests after closing: %+v", prs)
	}
	// One path only: a new set of rewrites, so a new pull request.
	if reply, ok := command(t, sim, "acme/api", n, "max", "/ferry optimize-dockerfile web/Dockerfile"); !ok || !strings.Contains(reply, "opened #") {
		t.Fatalf("one path: %q", reply)
	}
	if reply, ok := command(t, sim, "acme/api", n, "max", "/ferry optimize-dockerfile nope/Dockerfile"); !ok || !strings.Contains(reply, "no Dockerfile at nope/Dockerfile") {
		t.Fatalf("missing path: %q", reply)
	}
}

// TestE2E_PullRequestDockerfileFindings: a pull request touching a
// Dockerfile gets the findings on the lines it touched — in the sticky
// comment's own section and as check-run annotations, not in a second
// comment — and none for the lines it left alone.
func TestE2E_PullRequestDockerfileFindings(t *testing.T) {
	r := gittest.New(t)
	old := "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y make\nUSER 10001\n"
	base := r.Commit("base", map[string]string{"svc/Dockerfile": old})
	now := strings.Replace(old, "USER 10001\n", "RUN apt-get update && apt-get install -y curl\nADD conf /etc/conf\nUSER 10001\n", 1)
	head := r.Commit("svc: curl", map[string]string{"svc/Dockerfile": now})
	bare := filepath.Join(t.TempDir(), "api.git")
	r.Publish(bare)
	gitIn(t, bare, "update-ref", "refs/pull/1/head", head)
	gitIn(t, bare, "update-ref", "refs/pull/1/merge", gitIn(t, bare, "commit-tree", head+"^{tree}", "-p", base, "-p", head, "-m", "Merge"))
	sim, _ := newSim(t)
	sim.ServeGit("acme/api", bare)
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "svc: curl", HeadSHA: head, BaseSHA: base,
		Files: []githubsim.File{{Filename: "svc/Dockerfile", Status: "modified", Additions: 2,
			Patch: "@@ -1,3 +1,5 @@\n FROM debian:bookworm-slim\n RUN apt-get update && apt-get install -y make\n+RUN apt-get update && apt-get install -y curl\n+ADD conf /etc/conf\n USER 10001"}}})
	startWithSim(t, sim, "--git-cache-dir="+t.TempDir())
	sim.OpenPullRequest("acme/api", n)
	waitFor(t, "the check run", func() bool { return len(checkRunsOn(sim, "acme/api", head)) == 1 })
	cr := checkRunsOn(sim, "acme/api", head)[0]
	lines := map[float64][]string{}
	for _, a := range cr.Annotations {
		if a["path"] == "svc/Dockerfile" {
			lines[a["start_line"].(float64)] = append(lines[a["start_line"].(float64)], a["title"].(string))
		}
	}
	if len(lines[3]) != 2 || len(lines[4]) != 1 || len(lines[2]) != 0 || !strings.Contains(lines[4][0], "DL3020") {
		t.Fatalf("annotations by line: %v", lines)
	}
	// The check run is published before the comment: wait for both.
	waitFor(t, "the risk comment", func() bool { return len(riskComments(sim, "acme/api", n)) == 1 })
	comments := riskComments(sim, "acme/api", n)
	if len(comments) != 1 || len(sim.Comments("acme/api", n)) != 1 {
		t.Fatalf("%d comments", len(sim.Comments("acme/api", n)))
	}
	body := comments[0].Body
	section, _, _ := strings.Cut(body[strings.Index(body, "**Dockerfile, on the lines this changes**"):], "\n\n<sub>")
	if !strings.Contains(section, "`svc/Dockerfile:3` **apt-get install without --no-install-recommends** (hadolint DL3015)") ||
		!strings.Contains(section, "`svc/Dockerfile:4` **ADD where COPY is meant**") || strings.Contains(section, "Dockerfile:2`") {
		t.Fatalf("comment section:\n%s", section)
	}
	if p := mdtest.Problems(body); len(p) > 0 {
		t.Fatalf("the comment renders %v", p)
	}
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

// TestE2E_OptimizeDockerfileOnPush: with build.optimize_dockerfiles: auto,
// a push to main that touches a Dockerfile has ferry propose its rewrites
// by itself — once: the next push touching no Dockerfile leaves the pull
// request alone, and while the repository is paused nothing is proposed.
func TestE2E_OptimizeDockerfileOnPush(t *testing.T) {
	sim, repo, bare := dockerWorld(t, map[string]string{"README.md": "hi\n"})
	dsn := dbtest.SQLiteURL(t)
	startWithSim(t, sim, "--git-cache-dir="+t.TempDir(), "--database="+dsn)
	db := dbtest.Open(t, dsn)
	before := sim.Ref("acme/api", "heads/main")
	tip := repo.Commit("docker", map[string]string{"Dockerfile": dockerFiles["Dockerfile"],
		".github/ferry.yml": "version: 1\nbuild:\n  optimize_dockerfiles: auto\n"})
	repo.Publish(bare)
	sim.AddCommit("acme/api", tip)
	sim.SetFile("acme/api", tip, ".github/ferry.yml", "version: 1\nbuild:\n  optimize_dockerfiles: auto\n")
	sim.AddComparison("acme/api", before, tip, []githubsim.File{{Filename: "Dockerfile", Status: "added", Additions: 6},
		{Filename: ".github/ferry.yml", Status: "added", Additions: 3}}, nil)
	sim.Push("acme/api", "main", before, tip, []githubsim.PushCommit{{SHA: tip, Message: "docker", Author: "max",
		Added: []string{"Dockerfile", ".github/ferry.yml"}}})
	waitFor(t, "ferry's pull request", func() bool { return len(headed(sim, buildagent.Branch)) == 1 })
	pr := headed(sim, buildagent.Branch)[0]
	if !strings.Contains(sim.TreeFiles("acme/api", pr.HeadSHA)["Dockerfile"], "rm -rf /var/lib/apt/lists/*") {
		t.Fatalf("rewrite: %v", sim.TreeFiles("acme/api", pr.HeadSHA))
	}
	decisions := func() int {
		n := 0
		for _, c := range sim.Calls() {
			if c.Operation == "git/create-commit" {
				n++
			}
		}
		return n
	}
	commits := decisions()
	// Paused: a push touching the Dockerfile proposes nothing new.
	n := sim.AddIssue("acme/api", "freeze")
	sim.SetPermission("acme/api", "max", "maintain")
	if _, ok := command(t, sim, "acme/api", n, "max", "/ferry pause builds are frozen"); !ok {
		t.Fatal("pause refused")
	}
	if reply, ok := command(t, sim, "acme/api", n, "max", "/ferry optimize-dockerfile"); ok || !strings.Contains(reply, "paused") {
		t.Fatalf("optimize while paused: %q", reply)
	}
	next := repo.Commit("docker 2", map[string]string{"Dockerfile": strings.Replace(dockerFiles["Dockerfile"], "curl", "curl jq", 1)})
	repo.Publish(bare)
	sim.AddCommit("acme/api", next)
	sim.SetFile("acme/api", next, ".github/ferry.yml", "version: 1\nbuild:\n  optimize_dockerfiles: auto\n")
	sim.AddComparison("acme/api", tip, next, []githubsim.File{{Filename: "Dockerfile", Status: "modified", Additions: 1, Deletions: 1}}, nil)
	guid, status := sim.Push("acme/api", "main", tip, next, []githubsim.PushCommit{{SHA: next, Message: "docker 2", Author: "max", Modified: []string{"Dockerfile"}}})
	if status != 202 {
		t.Fatalf("push answered %d", status)
	}
	waitFor(t, "the push handled", func() bool {
		var st string
		_ = db.SQL().QueryRow(`SELECT status FROM deliveries WHERE id = ?`, guid).Scan(&st)
		return st == "done"
	})
	if got := decisions(); got != commits {
		t.Fatalf("%d commits created while paused", got-commits)
	}
}
