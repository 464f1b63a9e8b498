package deploygate

import (
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/policy"
)

func TestProtect(t *testing.T) {
	now := time.Date(2026, 12, 24, 8, 0, 0, 0, time.UTC)
	approved := []Approval{{"carol", head}}
	human := Facts{SHA: head, NeedHuman: []string{"environment production needs a human"}, PR: PROpen, Number: 7, Author: "alice",
		Checks: Checks{Source: FromSuites}}
	base := Request{Environment: "production", Gate: Facts{SHA: head}, Now: now, Deadline: now.Add(30 * 24 * time.Hour)}
	with := func(f func(*Request)) Request { c := base; f(&c); return c }
	freeze := policy.Freeze{From: now.Add(-time.Hour), To: now.Add(2 * time.Hour), Reason: "holidays"}
	for _, tt := range []struct {
		name  string
		r     Request
		want  Answer
		why   string
		until time.Time
	}{
		{"nothing holds it", base, Approve, "no human needed", time.Time{}},
		{"invalid policy", with(func(r *Request) { r.Invalid = true }), Reject, "invalid", time.Time{}},
		{"paused", with(func(r *Request) { r.Paused = "ferry is paused by @max" }), Reject, "paused", time.Time{}},
		{"rolled back elsewhere", with(func(r *Request) { r.RolledBack = "staging" }), Reject, "rolled 01234567 back in staging", time.Time{}},
		{"frozen", with(func(r *Request) { r.Freezes = []policy.Freeze{freeze} }), Wait, "frozen until 2026-12-24 10:00 UTC (holidays)", freeze.To},
		{"frozen past GitHub's wait", with(func(r *Request) { r.Freezes = []policy.Freeze{freeze}; r.Deadline = now.Add(time.Hour) }),
			Reject, "past the time GitHub waits", time.Time{}},
		{"freeze over", with(func(r *Request) { r.Freezes = []policy.Freeze{freeze}; r.Now = freeze.To }), Approve, "", time.Time{}},
		{"freeze to come", with(func(r *Request) { r.Freezes = []policy.Freeze{{From: now.Add(time.Hour), To: now.Add(2 * time.Hour)}} }),
			Approve, "", time.Time{}},
		{"approval missing", with(func(r *Request) { r.Gate = human }), Wait, "a human must approve", time.Time{}},
		{"approved", with(func(r *Request) { r.Gate = human; r.Gate.Approvals = approved }), Approve, "approved by carol", time.Time{}},
		{"approved, checks running", with(func(r *Request) {
			r.Gate = human
			r.Gate.Approvals, r.Gate.Checks = approved, Checks{Source: FromPolicy, Pending: []string{"test"}}
		}), Wait, "not green", time.Time{}},
		{"approved, checks failed", with(func(r *Request) {
			r.Gate = human
			r.Gate.Approvals, r.Gate.Checks = approved, Checks{Source: FromPolicy, Failed: []string{"test"}}
		}), Reject, "not green", time.Time{}},
		{"pushed since", with(func(r *Request) { r.Gate = human; r.Gate.Head = "ffff" }), Reject, "no longer the head", time.Time{}},
		{"closed", with(func(r *Request) { r.Gate = human; r.Gate.PR = PRClosed }), Reject, "closed", time.Time{}},
		{"no one to approve", with(func(r *Request) { r.Gate = human; r.Gate.PR = PRNone }), Reject, "without a pull request", time.Time{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := Protect(tt.r)
			if v.Answer != tt.want || !strings.Contains(v.Why, tt.why) || !v.Until.Equal(tt.until) {
				t.Fatalf("Protect = %+v, want %s %q until %v", v, tt.want, tt.why, tt.until)
			}
		})
	}
}
