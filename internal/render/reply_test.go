package render

import (
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/command"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/mdtest"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/release"
)

func TestReplyGolden(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	d := deploy.Deploy{ID: "cmd-7-0", Kind: deploy.KindDeploy, SHA: "9f3c2a1b7e6d5c4b3a2918f7e6d5c4b3a2918f7e", Environment: "production",
		Strategy: policy.Canary, Reasons: "the risk route proposes canary"}
	dec := audit.Decision{ID: "deploy-cmd-7-0", At: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC), Subject: "env:production@9f3c2a1b",
		Kind: audit.KindDeploy, Actor: "max", InputsDigest: "sha256:0011223344556677", Output: "refused: ferry's operator has not allowed it",
		Reasons: []audit.Reason{{Rule: "destructive-sql", Weight: 30, Summary: "destructive SQL on 1 line", Evidence: []string{"db/migrate/1.sql:1"}},
			{Rule: "refused", Summary: "acme/api may not deploy to prod-eu/kube-system", Private: true}}}
	feat := release.Entry{SHA: "9f3c2a1b7e6d5c4b3a2918f7e6d5c4b3a2918f7e", PR: 42, Type: "feat", Scope: "api", Subject: "page through `orders` <b>fast</b>",
		Authors: []release.Credit{{Name: "octo-cat", Login: true}}, Risk: "medium"}
	preview := []ReleaseView{
		NewReleaseView(release.Notes{Bump: release.BumpMinor, Sections: []release.Section{{Key: "feat", Title: "Features", Entries: []release.Entry{feat}}}}),
		NewReleaseView(release.Notes{Component: "web", Bump: release.BumpNone, Skipped: []release.Skipped{{SHA: feat.SHA, Reason: release.SkipLabel, Why: "labelled skip-changelog"}}}),
	}
	for name, v := range map[string]ReplyView{
		"reply-changelog": {Actor: "max", Parts: []ReplyPart{{Changelog: preview}}},
		"reply-refused": {Actor: "max", Parts: []ReplyPart{{Refused: "/ferry pause needs maintain permission; you have write"},
			{Refused: `unknown command "</details>": try /ferry help`}}},
		"reply-deploy":  {Actor: "max", Parts: []ReplyPart{{Deploy: &d}, {RollingBack: &d}}},
		"reply-help":    {Actor: "max", Parts: []ReplyPart{{Help: command.Specs}}},
		"reply-explain": {Actor: "max", Parts: []ReplyPart{{Decision: &dec}}},
		"reply-failed":  {Actor: "max", Parts: []ReplyPart{{Failed: "5d1f`x"}, {Note: "ferry was not paused here"}}},
	} {
		got, err := r.Reply(v)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name+".md", got)
		if name == "reply-explain" && (strings.Contains(got, "kube-system") || !strings.Contains(got, "Details for ferry's operator")) {
			t.Errorf("explain shows a private reason:\n%s", got)
		}
		// The first line mentions the person answered, on purpose.
		if p := mdtest.Problems(got[len("@max"):]); len(p) > 0 {
			t.Errorf("%s: %v", name, p)
		}
	}
}
