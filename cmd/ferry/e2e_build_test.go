package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/buildagent"
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
	sim, _, _ := dockerWorld(t, dockerFiles)
	startWithSim(t, sim, "--git-cache-dir="+t.TempDir())
	n := sim.AddIssue("acme/api", "Docker builds are slow")

	reply, ok := command(t, sim, "acme/api", n, "max", "/ferry optimize-dockerfile")
	if !ok || !strings.Contains(reply, "rewrites of 2 of 3 Dockerfiles") {
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
	if !strings.Contains(root, "apt-get update \\\n    && apt-get install --no-install-recommends -y curl ca-certificates \\\n    && rm -rf /var/lib/apt/lists/*") ||
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
	for _, want := range []string{"hadolint DL3015", "Sources copied before dependencies are installed", "parses ✓ · LLB ✓ · contract ✓ · fewer findings ✓",
		"suggestions ferry did not apply", "Base image not pinned"} {
		if !strings.Contains(pr.Body, want) {
			t.Fatalf("body lacks %q:\n%s", want, pr.Body)
		}
	}
	if p := mdtest.Problems(pr.Body); len(p) > 0 {
		t.Fatalf("the body renders %v", p)
	}

	// Asked again: the same pull request, updated in place.
	if reply, ok := command(t, sim, "acme/api", n, "max", "/ferry optimize-dockerfile"); !ok || !strings.Contains(reply, "updated #") {
		t.Fatalf("again: %q", reply)
	}
	if prs := headed(sim, buildagent.Branch); len(prs) != 1 {
		t.Fatalf("%d pull requests after a second ask", len(prs))
	}
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
