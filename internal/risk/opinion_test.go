package risk

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWithOpinion(t *testing.T) {
	concern := func(l Level) Concern { return Concern{Path: "a.go", Line: 3, Severity: l, Summary: "x"} }
	for _, tc := range []struct {
		name     string
		in       Assessment
		op       Opinion
		want     Level
		raisedBy bool
		wantFrom Level
	}{
		{name: "a high concern raises medium", in: Assessment{Level: Medium}, op: Opinion{Said: High, Concerns: []Concern{concern(High)}},
			want: High, raisedBy: true, wantFrom: Medium},
		{name: "saying high without a concern does not", in: Assessment{Level: Medium}, op: Opinion{Said: High}, want: Medium},
		{name: "saying low never lowers", in: Assessment{Level: High}, op: Opinion{Said: Low, Concerns: []Concern{concern(Low)}}, want: High},
		{name: "a medium concern leaves medium", in: Assessment{Level: Medium}, op: Opinion{Concerns: []Concern{concern(Medium)}}, want: Medium},
		{name: "the fast path stays", in: Assessment{Level: Low, FastPath: "docs-only"}, op: Opinion{Concerns: []Concern{concern(High)}}, want: Low},
		{name: "skipped", in: Assessment{Level: Medium}, op: Opinion{Skipped: "budget"}, want: Medium},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in.WithOpinion(tc.op)
			if got.Level != tc.want {
				t.Errorf("level %s, want %s", got.Level, tc.want)
			}
			if got.Opinion == nil || got.Opinion.Raised != tc.wantFrom {
				t.Fatalf("opinion %+v, want raised from %q", got.Opinion, tc.wantFrom)
			}
			var rules []string
			for _, r := range got.Reasons {
				rules = append(rules, r.Rule)
			}
			var want []string
			if tc.raisedBy {
				want = []string{RuleSecondOpinion}
			}
			if d := cmp.Diff(want, rules); d != "" {
				t.Errorf("reasons (-want +got):\n%s", d)
			}
		})
	}
}
