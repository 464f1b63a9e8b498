package release

import (
	"slices"
	"strings"

	"github.com/ferry-ci/ferry/internal/change"
)

// sectionDef is a section known by key, in the order sections appear.
type sectionDef struct{ key, title string }

// sections lists the known sections in the order the notes show them:
// what needs attention first, then what users notice, then the rest.
// Sections from labels that name no known key come just before "other".
var sections = []sectionDef{
	{"breaking", "Breaking changes"}, {"migrations", "Migrations"}, {"feat", "Features"}, {"fix", "Bug fixes"},
	{"security", "Security"}, {"perf", "Performance"}, {"other", "Changes"}, {"revert", "Reverts"},
	{"deps", "Dependencies"}, {"refactor", "Refactoring"}, {"build", "Build"}, {"infra", "Infrastructure"},
	{"docs", "Documentation"}, {"test", "Tests"}, {"ci", "CI"}, {"style", "Style"}, {"chore", "Chores"},
}

// rank orders section keys; a key not known sorts just before "other".
func rank(key string) int {
	for i, s := range sections {
		if s.key == key {
			return 2*i + 2
		}
	}
	return 2*slices.IndexFunc(sections, func(s sectionDef) bool { return s.key == "other" }) + 1
}

// title is a section's heading: a known key's, or the label's own words.
func title(key string) string {
	for _, s := range sections {
		if s.key == key {
			return s.title
		}
	}
	return key
}

// typeOrder ranks conventional types by what they mean to users: a pull
// request of several typed commits takes the most significant.
var typeOrder = []string{"feat", "fix", "security", "perf", "revert", "refactor", "deps", "build", "docs", "test", "ci", "style", "chore"}

func typeRank(t string) int {
	if i := slices.Index(typeOrder, t); i >= 0 {
		return i
	}
	return len(typeOrder)
}

// sectionKey reads a configured section: a known key, a known section's
// title, or the title of a section of its own.
func sectionKey(v string) string {
	v = strings.TrimSpace(v)
	for _, s := range sections {
		if strings.EqualFold(v, s.key) || strings.EqualFold(v, s.title) {
			return s.key
		}
	}
	return v
}

// labelSection reads a draft's labels through the configured map: the
// most significant section named, and whether one says breaking.
func labelSection(labels []string, m map[string]string) (key string, breaking bool) {
	for _, l := range labels {
		v, ok := m[strings.ToLower(l)]
		if !ok {
			continue
		}
		v = sectionKey(v)
		switch {
		case v == "breaking":
			breaking = true
		case key == "" || rank(v) < rank(key):
			key = v
		}
	}
	return key, breaking
}

// section decides where a draft goes: labels, then its type (a
// Conventional Commits header or a "[BUGFIX]" tag), then a revert's own
// section, then the classes of its files, then the subject's first word
// ("inferred": a guess that sorts but does not move the version past a
// patch); "other" last.
func (b *builder) section(d *draft, files []string) (key string, inferred bool) {
	key, breaking := labelSection(d.labels, b.labels)
	d.breaking = d.breaking || breaking
	switch {
	case d.breaking:
		return "breaking", false
	case key != "":
		return key, false
	case d.isRevert:
		return "revert", false
	case d.header.Conventional:
		if k, ok := b.types[d.header.Type]; ok {
			return k, false
		}
		if d.header.Scope == "deps" || d.header.Scope == "deps-dev" {
			return "deps", false
		}
		return d.header.Type, false
	}
	if k := classSection(files, b.classes); k != "" {
		return k, false
	}
	return verbSection(d.header.Description), true
}

// classSection names the section the files' classes make obvious:
// anything with a migration; docs only; tests (and docs) only;
// dependency manifests and lock files only; CI only; infrastructure
// only. "" when the files say nothing.
func classSection(files []string, classesOf func(string) []change.Class) string {
	if len(files) == 0 {
		return ""
	}
	every := map[change.Class]bool{change.Docs: true, change.Tests: true, change.Deps: true, change.CI: true, change.Infra: true}
	testsOrDocs := true
	for _, f := range files {
		cs := classesOf(f)
		if slices.Contains(cs, change.Migration) {
			return "migrations"
		}
		has := func(c change.Class) bool { return slices.Contains(cs, c) }
		for c := range every {
			ok := has(c) || c == change.Deps && has(change.Generated) && isLock(f) || c == change.Infra && has(change.Dockerfile)
			every[c] = every[c] && ok
		}
		testsOrDocs = testsOrDocs && (has(change.Tests) || has(change.Docs))
	}
	switch {
	case every[change.Docs]:
		return "docs"
	case every[change.Tests] || testsOrDocs:
		return "test"
	case every[change.Deps]:
		return "deps"
	case every[change.CI]:
		return "ci"
	case every[change.Infra]:
		return "infra"
	}
	return ""
}

// isLock: lock files are "generated" and belong to their manifest.
func isLock(path string) bool {
	base := strings.ToLower(path[strings.LastIndexByte(path, '/')+1:])
	return strings.HasSuffix(base, ".lock") || strings.HasSuffix(base, "-lock.json") || strings.HasSuffix(base, "-lock.yaml") ||
		base == "go.sum" || base == "gradle.lockfile"
}

// verbs sort unstructured subjects by their first word.
var verbs = map[string]string{
	"fix": "fix", "fixes": "fix", "fixed": "fix", "fixing": "fix", "bugfix": "fix", "hotfix": "fix",
	"resolve": "fix", "resolves": "fix", "correct": "fix", "corrects": "fix", "prevent": "fix", "prevents": "fix",
	"add": "feat", "adds": "feat", "added": "feat", "adding": "feat", "implement": "feat", "implements": "feat",
	"introduce": "feat", "introduces": "feat", "support": "feat", "supports": "feat", "allow": "feat", "allows": "feat",
	"enable": "feat", "enables": "feat", "new": "feat", "expose": "feat", "exposes": "feat",
	"optimize": "perf", "optimise": "perf", "optimizes": "perf", "speed": "perf",
	"refactor": "refactor", "refactors": "refactor", "simplify": "refactor", "simplifies": "refactor",
	"cleanup": "refactor", "clean": "refactor", "rename": "refactor", "move": "refactor", "extract": "refactor",
	"upgrade": "deps", "upgrades": "deps",
}

// verbSection reads an unstructured subject's first word: "Fix …" is a
// fix, "Add …" a feature, "Bump x from 1 to 2" (dependency bots) a
// dependency update.
func verbSection(subject string) string {
	word, rest, _ := strings.Cut(strings.TrimSpace(subject), " ")
	word = strings.ToLower(strings.TrimRight(word, ":,"))
	if word == "bump" && (strings.Contains(rest, " from ") && strings.Contains(rest, " to ") || strings.Contains(rest, "dependencies")) {
		return "deps"
	}
	if k, ok := verbs[word]; ok {
		return k
	}
	return "other"
}

// checkClasses are the classes of files that may break users even when
// nothing says so.
var checkClasses = []change.Class{change.APIContract, change.Migration, change.Config}

func checks(files []string, classesOf func(string) []change.Class) []change.Class {
	var out []change.Class
	for _, f := range files {
		for _, c := range classesOf(f) {
			if slices.Contains(checkClasses, c) && !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	slices.Sort(out)
	return out
}

// classes are a path's classes, each path's computed once per Build:
// paths recur across a release's commits, and the class rules are
// regular expressions.
func (b *builder) classes(path string) []change.Class {
	cs, ok := b.classMemo[path]
	if !ok {
		cs = change.Classes(path)
		b.classMemo[path] = cs
	}
	return cs
}

// bump is what one entry asks of the version.
func (b *builder) bump(key string) Bump {
	switch {
	case key == "breaking":
		return BumpMajor
	case key == "feat":
		return BumpMinor
	case slices.Contains(b.cfg.NoRelease, key):
		return BumpNone
	}
	return BumpPatch
}
