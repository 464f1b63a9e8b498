package release

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
)

func sha(n int) string { return fmt.Sprintf("%040x", n) }

// line builds a history: each commit's first parent is the one before it
// unless it names parents.
type line struct{ cs []Commit }

func (l *line) add(msg string, files ...string) *Commit {
	var parents []string
	if n := len(l.cs); n > 0 {
		parents = []string{l.cs[n-1].SHA}
	}
	return l.commit(parents, msg, files...)
}

func (l *line) commit(parents []string, msg string, files ...string) *Commit {
	l.cs = append(l.cs, Commit{SHA: sha(len(l.cs) + 1), Parents: parents, Message: msg, Files: files,
		Author: Author{Name: "Ann"}})
	return &l.cs[len(l.cs)-1]
}

// shown is what the notes show, compactly: "section: subject [commit
// numbers]", and the skipped commits' numbers with their reasons.
func shown(t *testing.T, in Input) (entries, skipped []string, n Notes) {
	t.Helper()
	n, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	num := func(s string) string { return strings.TrimLeft(s, "0") }
	for _, s := range n.Sections {
		for _, e := range s.Entries {
			var cs []string
			for _, c := range e.Commits {
				cs = append(cs, num(c))
			}
			entries = append(entries, fmt.Sprintf("%s: %s [%s]", s.Key, e.Subject, strings.Join(cs, " ")))
		}
	}
	for _, s := range n.Skipped {
		skipped = append(skipped, num(s.SHA)+" "+string(s.Reason))
	}
	return entries, skipped, n
}

func TestMergeStyles(t *testing.T) {
	var l line
	l.add("initial")
	main := l.add("fix: squash (#1)", "a.go").SHA
	side1 := l.commit([]string{main}, "wip", "b.go").SHA
	side2 := l.commit([]string{side1}, "feat(b): the real thing", "b.go").SHA
	merged := l.commit([]string{main, side2}, "Merge pull request #2 from acme/b\n\nAdd B").SHA
	l.commit([]string{merged}, "rebased one", "c.go")
	l.add("rebased two", "c.go")
	in := Input{Commits: l.cs[1:], Config: DefaultConfig()}
	entries, skipped, _ := shown(t, in)
	want := []string{"feat: Add B [3 4 5]", "fix: squash [2]", "other: rebased one [6]", "other: rebased two [7]"}
	if diff := cmp.Diff(want, entries); diff != "" || skipped != nil {
		t.Errorf("read from git (-want +got):\n%s\nskipped %v", diff, skipped)
	}
	// GitHub ties the rebased commits to their pull request.
	in.Commits[4].PR, in.Commits[5].PR = 3, 3
	in.Commits[4].PRTitle = "perf: rebase merged"
	entries, _, _ = shown(t, in)
	want = []string{"feat: Add B [3 4 5]", "fix: squash [2]", "perf: rebase merged [6 7]"}
	if diff := cmp.Diff(want, entries); diff != "" {
		t.Errorf("with pull requests (-want +got):\n%s", diff)
	}
}

func TestSideMerges(t *testing.T) {
	var l line
	base := l.add("initial").SHA
	side := l.commit([]string{base}, "feat: x", "x.go").SHA
	main := l.commit([]string{base}, "fix: y (#1)", "y.go").SHA
	sideMerge := l.commit([]string{side, main}, "Merge branch 'main' into x").SHA
	release := l.commit([]string{main, sideMerge}, "Merge branch 'release-1.2'").SHA
	l.commit([]string{release}, "docs: z", "README.md")
	entries, skipped, _ := shown(t, Input{Commits: l.cs[1:], Config: DefaultConfig()})
	// Neither merge is a pull request's: both skipped, their commits listed.
	want := []string{"feat: x [2]", "fix: y [3]", "docs: z [6]"}
	if diff := cmp.Diff(want, entries); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"4 merge", "5 merge"}, skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
}

func TestReverts(t *testing.T) {
	tests := []struct {
		name    string
		build   func(l *line)
		entries []string
		skipped []string
	}{
		{"pair within the range", func(l *line) {
			l.add("feat: a (#1)", "a.go")
			l.add("fix: b (#2)", "b.go")
			l.add("Revert \"feat: a (#1)\"\n\nThis reverts commit "+sha(2)[:7]+".", "a.go")
		}, []string{"fix: b [3]"}, []string{"2 reverted", "4 revert"}},
		{"revert of a revert brings it back", func(l *line) {
			l.add("feat: a (#1)", "a.go")
			l.add("Revert \"feat: a (#1)\"\n\nThis reverts commit "+sha(2)+".", "a.go")
			l.add("Reapply \"feat: a (#1)\"\n\nThis reverts commit "+sha(3)+".", "a.go")
		}, []string{"feat: a [2]"}, []string{"3 reverted", "4 revert"}},
		{"revert of a change released before", func(l *line) {
			l.add("Revert \"feat: old (#0)\"\n\nThis reverts commit abcdef1.", "a.go")
		}, []string{"revert: Revert \"feat: old (#0)\" [2]"}, nil},
		{"revert and re-revert of a released change cancel out", func(l *line) {
			l.add("Revert \"feat: old\"\n\nThis reverts commit abcdef1.", "a.go")
			l.add("Revert \"Revert \"feat: old\"\"\n\nThis reverts commit "+sha(2)+".", "a.go")
		}, nil, []string{"2 reverted", "3 revert"}},
		{"GitHub's revert pull request, merged", func(l *line) {
			l.add("feat: a (#5)", "a.go")
			side := l.add("Revert \"feat: a\"\n\nReverts acme/api#5", "a.go").SHA
			l.commit([]string{sha(2), side}, "Merge pull request #6 from acme/revert-5-a\n\nRevert \"feat: a\"")
		}, nil, []string{"2 reverted", "3 revert", "4 revert"}},
		{"by quoted subject only", func(l *line) {
			l.add("Add the search page (#7)", "a.go")
			l.add("Revert \"Add the search page\"", "a.go")
		}, nil, []string{"2 reverted", "3 revert"}},
		{"one commit of a rebase-merged pull request", func(l *line) {
			l.add("feat: a", "a.go").PR = 8
			l.add("feat: b", "b.go").PR = 8
			l.add("Revert \"feat: b\"\n\nThis reverts commit "+sha(3)+".", "b.go")
		}, []string{"feat: a [2]"}, []string{"3 reverted", "4 revert"}},
		{"a revert inside a pull request's branch is its own business", func(l *line) {
			base := sha(1)
			s1 := l.commit([]string{base}, "try x", "x.go").SHA
			s2 := l.commit([]string{s1}, "Revert \"try x\"\n\nThis reverts commit "+s1+".", "x.go").SHA
			s3 := l.commit([]string{s2}, "feat: y", "y.go").SHA
			l.commit([]string{base, s3}, "Merge pull request #9 from acme/y\n\nAdd y")
		}, []string{"feat: Add y [2 3 4 5]"}, nil},
		{"an embedded revert line does not make a revert", func(l *line) {
			l.add("feat: a (#1)", "a.go")
			l.add("fix: rework a (#2)\n\n* Revert part\n\nThis reverts commit "+sha(2)+".", "a.go")
		}, []string{"feat: a [2]", "fix: rework a [3]"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l line
			l.add("initial")
			tt.build(&l)
			entries, skipped, _ := shown(t, Input{Commits: l.cs[1:], Config: DefaultConfig()})
			if diff := cmp.Diff(tt.entries, entries); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.skipped, skipped); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSectionsAndBump(t *testing.T) {
	tests := []struct {
		name    string
		msgs    []string // "subject|file,file"
		labels  map[int][]string
		cfg     func(*Config)
		prev    string
		entries []string
		bump    Bump
		version string
	}{
		{"docs and tests alone make no release", []string{"docs: a|README.md", "Add parser tests|x_test.go", "ci: cache|.github/workflows/ci.yml"},
			nil, nil, "v1.4.2", []string{"docs: a [2]", "test: Add parser tests [3]", "ci: cache [4]"}, BumpNone, ""},
		{"a fix is a patch", []string{"fix: a|a.go", "docs: b|README.md"}, nil, nil, "v1.4.2",
			[]string{"fix: a [2]", "docs: b [3]"}, BumpPatch, "1.4.3"},
		{"a feature is a minor", []string{"feat: a|a.go"}, nil, nil, "v1.4.2", []string{"feat: a [2]"}, BumpMinor, "1.5.0"},
		{"breaking is a major", []string{"feat: a|a.go", "fix!: b|b.go"}, nil, nil, "v1.4.2",
			[]string{"breaking: b [3]", "feat: a [2]"}, BumpMajor, "2.0.0"},
		{"below 1.0.0 breaking is a minor", []string{"fix!: b|b.go"}, nil, nil, "v0.3.1", []string{"breaking: b [2]"}, BumpMinor, "0.4.0"},
		{"below 1.0.0 a feature is a patch", []string{"feat: b|b.go"}, nil, nil, "v0.3.1", []string{"feat: b [2]"}, BumpPatch, "0.3.2"},
		{"below 1.0.0, standard", []string{"fix!: b|b.go"}, nil, func(c *Config) { c.BelowOne = BelowOneStandard }, "v0.3.1",
			[]string{"breaking: b [2]"}, BumpMajor, "1.0.0"},
		{"the first release", []string{"feat: a|a.go"}, nil, nil, "", []string{"feat: a [2]"}, BumpMinor, "0.1.0"},
		{"an rc channel", []string{"feat: a|a.go"}, nil, func(c *Config) { c.Prerelease = "rc" }, "v1.4.2",
			[]string{"feat: a [2]"}, BumpMinor, "1.5.0-rc.1"},
		{"labels, by key and by title", []string{"Passkeys (#1)|a.go", "Crash (#2)|b.go", "Thing (#3)|c.go"},
			map[int][]string{2: {"enhancement"}, 3: {"Type: Bug"}, 4: {"area/ui", "breaking-change"}},
			func(c *Config) {
				c.Labels = map[string]string{"enhancement": "Features", "type: bug": "fix", "breaking-change": "breaking"}
			},
			"v1.0.0", []string{"breaking: Thing [4]", "feat: Passkeys [2]", "fix: Crash [3]"}, BumpMajor, "2.0.0"},
		{"a label's own section", []string{"Translations (#1)|locales/de.json"}, map[int][]string{2: {"i18n"}},
			func(c *Config) { c.Labels = map[string]string{"i18n": "Translations"} }, "v1.0.0",
			[]string{"Translations: Translations [2]"}, BumpPatch, "1.0.1"},
		{"types mapped and added", []string{"perf: faster|a.go", "i18n: German|b.go", "wip(x): y|c.go"},
			nil, func(c *Config) { c.Types = map[string]string{"perf": "Features", "i18n": "Translations"} }, "v1.0.0",
			[]string{"feat: faster [2]", "Translations: German [3]", "other: wip(x): y [4]"}, BumpMinor, "1.1.0"},
		{"path classes for unstructured subjects", []string{"Tweak|db/migrate/001_x.sql", "Tweak|docs/a.md", "Tweak|go.mod,go.sum",
			"Tweak|deploy/k8s/app.yaml", "Tweak|internal/a.go"}, nil, nil, "v1.0.0",
			[]string{"migrations: Tweak [2]", "other: Tweak [6]", "deps: Tweak [4]", "infra: Tweak [5]", "docs: Tweak [3]"}, BumpPatch, "1.0.1"},
		{"a subject's verb sorts but does not make a minor", []string{"Add search|a.go", "Fix crash|b.go", "[ENHANCEMENT] TSDB: faster|c.go"},
			nil, nil, "v1.0.0", []string{"feat: Add search [2]", "feat: faster [4]", "fix: Fix crash [3]"}, BumpMinor, "1.1.0"},
		{"a verb alone is a patch", []string{"Add search|a.go"}, nil, nil, "v1.0.0", []string{"feat: Add search [2]"}, BumpPatch, "1.0.1"},
		{"skip labels and bot noise", []string{"Secret (#1)|a.go", "chore(deps): bump x (#2)|go.mod", "fix: y (#3)|b.go"},
			map[int][]string{2: {"skip-changelog"}}, func(c *Config) { c.Noise = []Noise{{Author: "dependabot[bot]", Sections: []string{"deps"}}} },
			"v1.0.0", []string{"fix: y [4]"}, BumpPatch, "1.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l line
			l.add("initial")
			for i, m := range tt.msgs {
				subj, files, _ := strings.Cut(m, "|")
				c := l.add(subj, strings.Split(files, ",")...)
				c.Labels = tt.labels[i+2]
				if strings.Contains(subj, "bump x") {
					c.Author = Author{Name: "dependabot[bot]", Email: "49699333+dependabot[bot]@users.noreply.github.com"}
				}
			}
			cfg := DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			entries, _, n := shown(t, Input{Commits: l.cs[1:], Previous: tt.prev, Config: cfg})
			if diff := cmp.Diff(tt.entries, entries); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			if n.Bump != tt.bump || n.Version != tt.version {
				t.Errorf("bump %s, version %q; want %s, %q", n.Bump, n.Version, tt.bump, tt.version)
			}
		})
	}
}

func TestPeopleRiskEnvironments(t *testing.T) {
	var l line
	l.add("initial")
	a := l.add("feat: a\n\nCo-authored-by: Dee <dee@example.com>", "a.go")
	a.Author, a.PR, a.Risk, a.Environments = Author{Login: "ann"}, 1, risk.Medium, []string{"staging"}
	b := l.add("fix: a", "a.go")
	b.Author, b.PR, b.Risk, b.Environments = Author{Name: "Bob", Email: "9+bobby@users.noreply.github.com"}, 1, risk.High, []string{"staging", "production"}
	c := l.add("fix: c", "c.go")
	c.Author = Author{Name: "Ann Lee", Email: "ann@example.com"}
	in := Input{Commits: l.cs[1:], Config: DefaultConfig()}
	n, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	e := n.Sections[0].Entries[0]
	want := []Credit{{"ann", true}, {"Dee", false}, {"bobby", true}}
	if diff := cmp.Diff(want, e.Authors); diff != "" || e.Risk != risk.High || !cmp.Equal(e.Environments, []string{"staging", "production"}) {
		t.Errorf("authors (-want +got):\n%s\nrisk %s, environments %v", diff, e.Risk, e.Environments)
	}
	for _, c := range n.Contributors {
		if c.FirstTime {
			t.Errorf("%s is a first-timer though no one said who came before", c.Name)
		}
	}
	in.PreviousContributors = []string{"ANN", "ann@example.com"}
	n, _ = Build(in)
	var first []string
	for _, c := range n.Contributors {
		if c.FirstTime {
			first = append(first, c.Name)
		}
	}
	if diff := cmp.Diff([]string{"Dee", "bobby"}, first); diff != "" {
		t.Errorf("first-timers (-want +got):\n%s", diff)
	}
}

func TestPossiblyBreaking(t *testing.T) {
	var l line
	l.add("initial")
	l.add("fix: a", "api/orders.proto", "db/migrations/002_x.sql", "config/app.yaml", "a.go")
	l.add("feat!: b", "api/orders.proto")
	n, err := Build(Input{Commits: l.cs[1:], Config: DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range n.Sections {
		for _, e := range s.Entries {
			want := []change.Class{change.APIContract}
			if e.Subject == "a" {
				want = []change.Class{change.APIContract, change.Config, change.Migration}
			}
			if diff := cmp.Diff(want, e.Check); diff != "" {
				t.Errorf("%s: check (-want +got):\n%s", e.Subject, diff)
			}
		}
	}
}

func TestComponents(t *testing.T) {
	var l line
	l.add("initial")
	l.add("feat(api): a", "services/api/a.go")
	l.add("fix(web): b", "web/b.ts")
	l.add("chore: both", "services/api/x.go", "web/x.ts")
	cfg := DefaultConfig()
	cfg.Components = []Component{{Name: "api", Paths: []policy.Glob{policy.NewGlob("services/api/**")}},
		{Name: "web", Paths: []policy.Glob{policy.NewGlob("web/**")}, TagPattern: "web@{version}"}}
	entries, skipped, n := shown(t, Input{Commits: l.cs[1:], Config: cfg, Component: "api", Previous: "api-v1.0.0"})
	if diff := cmp.Diff([]string{"feat: a [2]", "chore: both [4]"}, entries); diff != "" || !cmp.Equal(skipped, []string{"3 component"}) {
		t.Errorf("api (-want +got):\n%s\nskipped %v", diff, skipped)
	}
	if n.Tag != "api-v1.1.0" || !cmp.Equal(n.Sections[1].Entries[0].Components, []string{"api", "web"}) {
		t.Errorf("tag %s, components %v", n.Tag, n.Sections[1].Entries[0].Components)
	}
	if _, _, n = shown(t, Input{Commits: l.cs[1:], Config: cfg, Component: "web", Previous: "web@2.0.0"}); n.Tag != "web@2.0.1" {
		t.Errorf("web tag %s", n.Tag)
	}
	for _, in := range []Input{
		{Commits: l.cs[1:], Config: cfg, Component: "cli"},
		{Commits: l.cs[1:], Config: cfg, Component: "api", Previous: "v1.0.0"},
		{Commits: l.cs[1:], Config: Config{TagPattern: "release"}},
	} {
		if _, err := Build(in); err == nil {
			t.Errorf("%+v: no error", in.Component)
		}
	}
}
