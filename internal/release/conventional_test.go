package release

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseHeader(t *testing.T) {
	conv := func(typ, scope, desc string, breaking bool) Header {
		return Header{Type: typ, Scope: scope, Description: desc, Breaking: breaking, Conventional: true}
	}
	whole := func(s string) Header { return Header{Description: s} }
	tests := []struct {
		in   string
		want Header
	}{
		{"feat: add login", conv("feat", "", "add login", false)},
		{"fix(api): handle nil", conv("fix", "api", "handle nil", false)},
		{"feat(api)!: drop v1", conv("feat", "api", "drop v1", true)},
		{"feat!: drop v1", conv("feat", "", "drop v1", true)},
		{"refactor(core,ui): split", conv("refactor", "core,ui", "split", false)},
		{"chore(deps): bump x from 1 to 2", conv("chore", "deps", "bump x from 1 to 2", false)},
		{"build(deps-dev): bump y", conv("build", "deps-dev", "bump y", false)},
		{"perf: faster", conv("perf", "", "faster", false)},
		{"revert: feat: add login", conv("revert", "", "feat: add login", false)},
		{"docs: README", conv("docs", "", "README", false)},
		{"test: more", conv("test", "", "more", false)},
		{"ci: cache", conv("ci", "", "cache", false)},
		{"style: gofmt", conv("style", "", "gofmt", false)},
		{"security: bump jwt", conv("security", "", "bump jwt", false)},
		// case and aliases
		{"Feat: shout", conv("feat", "", "shout", false)},
		{"FIX(Api): shout", conv("fix", "Api", "shout", false)},
		{"feature(x): alias", conv("feat", "x", "alias", false)},
		{"bugfix: alias", conv("fix", "", "alias", false)},
		{"hotfix: alias", conv("fix", "", "alias", false)},
		{"doc: alias", conv("docs", "", "alias", false)},
		{"tests: alias", conv("test", "", "alias", false)},
		// whitespace
		{"  feat:   padded  ", conv("feat", "", "padded", false)},
		{"feat( api ): trimmed scope", conv("feat", "api", "trimmed scope", false)},
		{"feat:\tsep by tab", conv("feat", "", "sep by tab", false)},
		{"fix: keep: colons: inside", conv("fix", "", "keep: colons: inside", false)},
		{"feat(api): add (#12)", conv("feat", "api", "add (#12)", false)},
		// not conventional
		{"fix:no space", whole("fix:no space")},
		{"feat:", whole("feat:")},
		{"feat: ", whole("feat:")},
		{"feat():  empty scope", whole("feat():  empty scope")},
		{"feat(api: unclosed", whole("feat(api: unclosed")},
		{"feat(a(b)): nested", whole("feat(a(b)): nested")},
		{"feat (api): space before scope", whole("feat (api): space before scope")},
		{"feat!(api): bang first", whole("feat!(api): bang first")},
		{"feat(api)! : space", whole("feat(api)! : space")},
		{"wip(api): unknown type with scope", whole("wip(api): unknown type with scope")},
		{"Note that: two words", whole("Note that: two words")},
		{"Update README.md", whole("Update README.md")},
		{"Merge pull request #12 from a/b", whole("Merge pull request #12 from a/b")},
		{`Revert "feat: add login"`, whole(`Revert "feat: add login"`)},
		{"https://example.com: link", whole("https://example.com: link")},
		{"", whole("")},
		{":", whole(":")},
		{"averyveryverylongtypename: x", Header{Scope: "averyveryverylongtypename", Description: "x"}}, // an area, not a type
		{"feat(" + string(make([]byte, 70)) + "): long scope", whole("feat(" + string(make([]byte, 70)) + "): long scope")},
		{"é: unicode type", whole("é: unicode type")},
		// areas (Go style): kept as scope, no type
		{"tsdb: fix race", Header{Scope: "tsdb", Description: "fix race"}},
		{"net/http: fix race", Header{Scope: "net/http", Description: "fix race"}},
		{"cmd/go, go/build: share", Header{Scope: "cmd/go, go/build", Description: "share"}},
		{"ui/react-app: bump", Header{Scope: "ui/react-app", Description: "bump"}},
		{"tsdb!: breaking area", whole("tsdb!: breaking area")},
		{"TSDB: capitals", Header{Scope: "TSDB", Description: "capitals"}},
		{"Note: capital unknown", Header{Scope: "Note", Description: "capital unknown"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, ParseHeader(tt.in)); diff != "" {
			t.Errorf("ParseHeader(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseBracketTag(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Header
		ok   bool
	}{
		{"[BUGFIX] TSDB: fix a race", Header{Type: "fix", Scope: "TSDB", Description: "fix a race", Conventional: true}, true},
		{"[ENHANCEMENT] faster", Header{Type: "feat", Description: "faster", Conventional: true}, true},
		{"[Feature] mixed case", Header{Type: "feat", Description: "mixed case", Conventional: true}, true},
		{"[PERF] x", Header{Type: "perf", Description: "x", Conventional: true}, true},
		{"[CHANGE] behaviour", Header{Type: "refactor", Description: "behaviour", Conventional: true}, true},
		{"[BUGFIX] feat(api): inner wins", Header{Type: "feat", Scope: "api", Description: "inner wins", Conventional: true}, true},
		{"[WIP] unknown", Header{}, false},
		{"[BUGFIX]", Header{}, false},
		{"[BUGFIX no close", Header{}, false},
		{"fix: no tag", Header{}, false},
	} {
		got, ok := ParseBracketTag(tt.in)
		if ok != tt.ok || cmp.Diff(tt.want, got) != "" {
			t.Errorf("ParseBracketTag(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBreakingNote(t *testing.T) {
	tests := []struct {
		msg  string
		note string
		ok   bool
	}{
		{"feat: x\n\nBREAKING CHANGE: the config moved", "the config moved", true},
		{"feat: x\n\nBREAKING-CHANGE: hyphen", "hyphen", true},
		{"feat: x\n\nBREAKING CHANGES: plural", "plural", true},
		{"feat: x\n\nbody\n\nBREAKING CHANGE: spans\ntwo lines\n\nSigned-off-by: a", "spans two lines", true},
		{"feat: x\n\nBREAKING CHANGE: stops\nReviewed-by: b", "stops", true},
		{"feat: x\n\nbreaking change: lower case is prose", "", false},
		{"feat: x\n\nThis is a BREAKING CHANGE: mid-line", "", false},
		{"BREAKING CHANGE: in the subject", "", false},
		{"feat: x\n\n* fix: y\n\nBREAKING CHANGE: from a squashed commit", "from a squashed commit", true},
		{"feat: x", "", false},
	}
	for _, tt := range tests {
		note, ok := BreakingNote(tt.msg)
		if note != tt.note || ok != tt.ok {
			t.Errorf("BreakingNote(%q) = %q, %v; want %q, %v", tt.msg, note, ok, tt.note, tt.ok)
		}
	}
}

func TestSubjectAndMergePR(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		pr   int
	}{
		{"feat: x (#123)", "feat: x", 123},
		{"feat: x (#12) (#34)", "feat: x", 34},
		{"feat: x(#5)", "feat: x", 5},
		{"feat: (#5) in the middle", "feat: (#5) in the middle", 0},
		{"fix #12", "fix #12", 0},
		{"feat: x (#1234567890)", "feat: x (#1234567890)", 0},
	} {
		got, pr := SubjectPR(tt.in)
		if got != tt.want || pr != tt.pr {
			t.Errorf("SubjectPR(%q) = %q, %d; want %q, %d", tt.in, got, pr, tt.want, tt.pr)
		}
	}
	for _, tt := range []struct {
		msg   string
		pr    int
		title string
		ok    bool
	}{
		{"Merge pull request #42 from acme/feat-x\n\nfeat: add x", 42, "feat: add x", true},
		{"Merge pull request #42 from acme/feat-x\n\n\n  Add x  \n\nmore", 42, "Add x", true},
		{"Merge pull request #42 from acme/feat-x", 42, "", true},
		{"Merge branch 'main' into feat-x", 0, "", false},
		{"Merge pull request #x from a/b", 0, "", false},
	} {
		pr, title, ok := MergePR(tt.msg)
		if pr != tt.pr || title != tt.title || ok != tt.ok {
			t.Errorf("MergePR(%q) = %d, %q, %v", tt.msg, pr, title, ok)
		}
	}
}

func TestRevertParsing(t *testing.T) {
	for _, tt := range []struct {
		in, inner string
		ok        bool
	}{
		{`Revert "feat: add x (#12)"`, "feat: add x (#12)", true},
		{`Revert "Revert "feat: x""`, `Revert "feat: x"`, true},
		{`Reapply "feat: x"`, "feat: x", true},
		{"Revert the thing", "the thing", true},
		{"revert: feat: x", "feat: x", true},
		{"Reverted nothing", "", false},
		{"Revert", "", false},
		{"fix: revert to old behaviour", "", false},
	} {
		inner, ok := RevertTitle(tt.in)
		if inner != tt.inner || ok != tt.ok {
			t.Errorf("RevertTitle(%q) = %q, %v", tt.in, inner, ok)
		}
	}
	shas, prs := RevertTargets("Revert \"x\"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.\nThis reverts commit abcdef1, reversing\nchanges made to 1234567.\n\nReverts acme/api#77\nReverts #78")
	if diff := cmp.Diff([]string{"0123456789abcdef0123456789abcdef01234567", "abcdef1"}, shas); diff != "" {
		t.Errorf("shas: %s", diff)
	}
	if diff := cmp.Diff([]int{77, 78}, prs); diff != "" {
		t.Errorf("prs: %s", diff)
	}
	co := CoAuthors("feat: x\n\nCo-authored-by: Ann Lee <ann@example.com>\nco-authored-by: bob <1+bob@users.noreply.github.com>")
	if diff := cmp.Diff([]Author{{Name: "Ann Lee", Email: "ann@example.com"}, {Name: "bob", Email: "1+bob@users.noreply.github.com"}}, co); diff != "" {
		t.Errorf("co-authors: %s", diff)
	}
	for email, login := range map[string]string{"1+Bob@users.noreply.github.com": "Bob", "ann@users.noreply.github.com": "ann",
		"49699333+dependabot[bot]@users.noreply.github.com": "dependabot[bot]", "ann@example.com": "", "@users.noreply.github.com": ""} {
		if got := loginFromEmail(email); got != login {
			t.Errorf("loginFromEmail(%q) = %q, want %q", email, got, login)
		}
	}
}
