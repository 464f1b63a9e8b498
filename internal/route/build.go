package route

import (
	"fmt"
	"path"
	"strings"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/risk"
)

// Build modes, from most to least reuse of earlier builds.
const (
	// BuildCached reuses every cached layer: a low-risk change.
	BuildCached = "cached"
	// BuildStandard is an ordinary build: cached layers, fresh base images.
	BuildStandard = "standard"
	// BuildFull builds from scratch — no layer cache, base images pulled —
	// because what the image is built from changed, or was not all seen.
	BuildFull = "full"
)

// buildInputs are the files whose change makes a cached layer a lie: the
// build's recipe, what it may copy, and the dependencies it resolves.
// Matched against a path's lower-cased base name (path.Match patterns);
// the first row that matches names it.
var buildInputs = []struct {
	what  string // how the reason starts
	names []string
}{
	{".dockerignore changed", []string{".dockerignore", "*.dockerignore", ".containerignore"}},
	{"Dockerfile changed", []string{"dockerfile", "containerfile", "*.dockerfile", "*.containerfile", "dockerfile.*", "containerfile.*", "dockerfile-*"}},
	{"dependencies changed", []string{
		"go.mod", "go.sum", "go.work", "go.work.sum", // Go
		"package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock", "bun.lockb", // JavaScript
		"requirements*.txt", "requirements*.in", "pyproject.toml", "poetry.lock", "pipfile", "pipfile.lock", "uv.lock", // Python
		"gemfile", "gemfile.lock", // Ruby
		"cargo.toml", "cargo.lock", // Rust
		"pom.xml", "build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts", "gradle.lockfile", // Java
		"composer.json", "composer.lock", // PHP
		"mix.exs", "mix.lock", // Elixir
		"packages.lock.json", // .NET
	}},
}

// maxBuildPaths bounds the paths a reason names, and maxPathRunes each
// name: a reason is a line, and a change to a thousand lockfiles (or to
// one under a very deep directory) needs no more to say so.
const (
	maxBuildPaths = 5
	maxPathRunes  = 200
)

// decideBuild chooses the build mode from what changed and the level,
// with its reasons.
func decideBuild(a risk.Assessment, ch change.Change) (string, []string) {
	var why []string
	for i, paths := range buildInputPaths(ch) {
		if len(paths) > 0 {
			why = append(why, buildInputs[i].what+": "+listPaths(paths))
		}
	}
	if a.Truncated {
		why = append(why, "not every file was seen: nothing cached is trusted")
	}
	switch {
	case len(why) > 0:
		return BuildFull, why
	case a.Level == risk.Low:
		return BuildCached, []string{"low risk: layer cache reused"}
	default:
		return BuildStandard, []string{fmt.Sprintf("%s risk: layer cache reused, base images pulled", a.Level)}
	}
}

// buildInputPaths are the change's paths per row of buildInputs, in the
// change's order. A rename counts by either name: moving a Dockerfile
// away changes the build as much as editing it.
func buildInputPaths(ch change.Change) [][]string {
	out := make([][]string, len(buildInputs))
	for _, f := range ch.Files {
		p := f.Path
		i := buildInput(p)
		if i < 0 && f.PreviousPath != "" {
			p, i = f.PreviousPath, buildInput(f.PreviousPath)
		}
		if i >= 0 {
			out[i] = append(out[i], p)
		}
	}
	return out
}

// buildInput is the row of buildInputs a path matches, or -1.
func buildInput(p string) int {
	base := strings.ToLower(path.Base(p))
	for i, in := range buildInputs {
		for _, pattern := range in.names {
			if ok, _ := path.Match(pattern, base); ok {
				return i
			}
		}
	}
	return -1
}

func listPaths(paths []string) string {
	var names []string
	for _, p := range paths[:min(len(paths), maxBuildPaths)] {
		if r := []rune(p); len(r) > maxPathRunes {
			p = "…" + string(r[len(r)-maxPathRunes+1:]) // the end names the file
		}
		names = append(names, p)
	}
	if len(paths) <= maxBuildPaths {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names, ", "), len(paths)-maxBuildPaths)
}
