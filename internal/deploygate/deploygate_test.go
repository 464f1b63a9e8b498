package deploygate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const head = "0123456789abcdef0123456789abcdef01234567"

func TestAuthorize(t *testing.T) {
	green := Checks{Source: FromSuites}
	base := Facts{SHA: head, NeedHuman: []string{"environment production needs a human"}, PR: PROpen, Number: 7,
		Author: "alice", Pushers: []string{"bob"}, Checks: green}
	with := func(f func(*Facts)) Facts { c := base; f(&c); return c }
	for _, tt := range []struct {
		name string
		f    Facts
		want string // a part of the refusal; "" = allowed
	}{
		{"nobody needed", with(func(f *Facts) { f.NeedHuman = nil; f.PR = PRNone }), ""},
		{"no approval", base, "a human must approve"},
		{"approved by a reviewer", with(func(f *Facts) { f.Approvals = []Approval{{"carol", head}} }), ""},
		{"approved by the author", with(func(f *Facts) { f.Approvals = []Approval{{"Alice", head}} }), "does not count"},
		{"approved by the pusher", with(func(f *Facts) { f.Approvals = []Approval{{"bob", head}} }), "@bob does not count"},
		{"approval of an earlier head", with(func(f *Facts) { f.Approvals = []Approval{{"carol", "ffff"}} }), "a human must approve"},
		{"pushed since", with(func(f *Facts) { f.Approvals = []Approval{{"carol", head}}; f.Head = "ffff" }), "no longer the head"},
		{"merged", with(func(f *Facts) { f.PR = PRMerged; f.Approvals = []Approval{{"carol", head}} }), ""},
		{"closed", with(func(f *Facts) { f.PR = PRClosed; f.Approvals = []Approval{{"carol", head}} }), "closed without merging"},
		{"no pull request", with(func(f *Facts) { f.PR = PRNone }), "without a pull request"},
		{"checks pending", with(func(f *Facts) {
			f.Approvals = []Approval{{"carol", head}}
			f.Checks = Checks{Source: FromProtection, Pending: []string{"ci/test"}}
		}), `waiting for "ci/test" (branch protection)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := string(Authorize(tt.f))
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Fatalf("Authorize = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	const self = 42
	obs := Observed{Self: self,
		Runs: []CheckRun{
			{ID: 1, Name: "test", AppID: 7, Status: "completed", Conclusion: "failure"},
			{ID: 2, Name: "test", AppID: 7, Status: "completed", Conclusion: "success"}, // a re-run: the newest counts
			{ID: 3, Name: "lint", AppID: 7, Status: "in_progress"},
			{ID: 4, Name: "ferry/risk", AppID: self, Status: "completed", Conclusion: "action_required"},
			{ID: 5, Name: "docs", AppID: 7, Status: "completed", Conclusion: "skipped"},
		},
		Statuses: []Status{{"ci/legacy", "success"}, {"deploy/preview", "failure"}},
		Suites: []Suite{{AppID: self, App: "ferry", Status: "completed", Conclusion: "action_required"},
			{AppID: 7, App: "github-actions", Status: "in_progress"}},
	}
	for _, tt := range []struct {
		name string
		req  Required
		want Checks
	}{
		{"names", Required{FromProtection, []string{"test", "lint", "ferry/risk", "docs", "ci/legacy", "deploy/preview", "missing"}},
			Checks{Source: FromProtection, Pending: []string{"lint", "missing"}, Failed: []string{"deploy/preview"}}},
		{"all green", Required{FromPolicy, []string{"test", "ci/legacy"}}, Checks{Source: FromPolicy}},
		{"suites", Required{Source: FromSuites},
			Checks{Source: FromSuites, Pending: []string{"github-actions"}, Failed: []string{"deploy/preview"}}},
		{"only ferry's suite", Required{Source: FromSuites}, Checks{Source: FromSuites}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := obs
			if tt.name == "only ferry's suite" {
				o = Observed{Self: self, Suites: obs.Suites[:1]}
			}
			if diff := cmp.Diff(tt.want, Evaluate(tt.req, o)); diff != "" {
				t.Fatalf("Evaluate (-want +got):\n%s", diff)
			}
		})
	}
}
