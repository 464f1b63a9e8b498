package route

import (
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
)

func TestMake(t *testing.T) {
	strict := policy.Default()
	strict.HighRiskConclusion = "action_required"
	tests := []struct {
		name   string
		a      risk.Assessment
		p      policy.Policy
		tests  string
		deploy policy.Strategy
		watch  time.Duration
		appr   bool
		check  string
	}{
		{"low takes the fast path", risk.Assessment{Level: risk.Low}, policy.Default(), "targeted", "rolling", 5 * time.Minute, false, "success"},
		{"medium", risk.Assessment{Level: risk.Medium}, policy.Default(), "full", "rolling", 15 * time.Minute, false, "success"},
		{"high: canary, neutral check", risk.Assessment{Level: risk.High}, policy.Default(), "full+extra", "canary", 30 * time.Minute, false, "neutral"},
		{"high under a strict policy needs a human", risk.Assessment{Level: risk.High}, strict, "full+extra", "canary", 30 * time.Minute, true, "action_required"},
		{"require_human path, even when low", risk.Assessment{Level: risk.Low, NeedsHuman: []string{"db/**"}}, policy.Default(), "targeted", "rolling", 5 * time.Minute, true, "action_required"},
		{"truncated change: no fast path", risk.Assessment{Level: risk.Low, Truncated: true}, policy.Default(), "full", "rolling", 5 * time.Minute, false, "success"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Make(tt.a, tt.p)
			if p.Tests != tt.tests || p.Deploy != tt.deploy || p.Watch != tt.watch || p.Approval != tt.appr || p.CheckConclusion != tt.check {
				t.Fatalf("plan %+v", p)
			}
		})
	}
}
