package promotion

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
)

// Change is one change going out, with what ferry knows of it.
type Change struct {
	Commit
	Title  string // the pull request's title, else the commit's subject
	Author string // the pull request's author (a login), else the commit's
	// Assessed: ferry assessed it (Level, Score, Top and Proposal are set).
	Assessed  bool
	Level     risk.Level
	Score     int
	Top       string // the largest reason, plain text
	Proposal  Plan   // how its own assessment routed a deploy
	Approvals []string
	// Source: how it ran in the environment promoted from (nil: it did not
	// run there by itself, or the environment promotes from the default
	// branch).
	Source *Source
	// RolledBackIn are the environments where a deploy of it was rolled
	// back (this one included).
	RolledBackIn []string
}

// Attention is something a person should look at before merging.
type Attention struct {
	Kind string // migration, high-risk, unapproved, revert, infrastructure, configuration, rolled-back, freeze, unassessed
	Text string // plain text
	SHA  string
	PR   int
}

// Summary is everything the production-deploy pull request says.
type Summary struct {
	Environment string
	From        string // the environment promoted from ("" the default branch)
	Candidate   string
	Running     string
	Changes     []Change // oldest first
	Authors     []string
	Plan        Plan
	Attention   []Attention
	// Blocked is the freeze window or pause that would hold the deploy now.
	Blocked string
}

// Input is what Summarize decides on.
type Input struct {
	Env     policy.Environment
	Running string
	Changes []Change // oldest first; the last is the candidate
	Now     time.Time
	Paused  string // "" not paused, else why
}

// Summarize combines the changes: the riskiest change's level and route
// (most cautious strategy among equals, longest watch, every reason a
// human must approve), what needs attention, and what would hold it.
func Summarize(in Input) Summary {
	s := Summary{Environment: in.Env.Name, From: in.Env.Promote.From, Running: in.Running, Changes: in.Changes, Plan: combine(in.Changes)}
	if an := in.Env.Analysis; an != nil && an.Watch > 0 {
		s.Plan.Watch = an.Watch // the policy's watch wins over the route's
	}
	if n := len(in.Changes); n > 0 {
		s.Candidate = in.Changes[n-1].SHA
	}
	for _, c := range in.Changes {
		if c.Author != "" && !slices.Contains(s.Authors, c.Author) {
			s.Authors = append(s.Authors, c.Author)
		}
		s.Attention = append(s.Attention, attention(c, in.Env)...)
	}
	s.Plan.Authors = s.Authors
	switch f, frozen := in.Env.Frozen(in.Now); {
	case in.Paused != "":
		s.Blocked = in.Paused
	case frozen:
		s.Blocked = "frozen until " + f.To.UTC().Format(time.RFC3339) + suffix(f.Reason)
	}
	if f, ok := freezeWithin(in.Env, in.Now, s.Plan.Watch); ok {
		s.Attention = append(s.Attention, Attention{Kind: "freeze", Text: fmt.Sprintf("a freeze window starts %s, before the deploy and its watch would end%s",
			f.From.UTC().Format(time.RFC3339), suffix(f.Reason))})
	}
	return s
}

func suffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

// combine routes the changes' deploy together.
func combine(changes []Change) Plan {
	p := Plan{Level: risk.Low, Strategy: policy.Rolling}
	var top *Change
	for i := range changes {
		c := &changes[i]
		if !c.Assessed {
			p.NeedHuman = appendNew(p.NeedHuman, "ferry has not assessed "+short(c.SHA))
			p.Level = risk.Max(p.Level, risk.Medium) // unknown is not low
			continue
		}
		p.Level = risk.Max(p.Level, c.Level)
		p.Watch = max(p.Watch, c.Proposal.Watch)
		for _, why := range c.Proposal.NeedHuman {
			p.NeedHuman = appendNew(p.NeedHuman, why)
		}
		if top == nil || c.Level.Rank() > top.Level.Rank() ||
			c.Level == top.Level && caution(c.Proposal.Strategy) > caution(top.Proposal.Strategy) {
			top = c
		}
	}
	if top != nil && top.Proposal.Strategy != "" {
		p.Strategy = top.Proposal.Strategy
	}
	if p.Level == risk.High && caution(p.Strategy) < caution(policy.Canary) {
		p.Strategy = policy.Canary // a high-risk change never ships all at once
	}
	return p
}

// caution orders strategies by how much of a change's traffic they risk
// at once.
func caution(s policy.Strategy) int {
	switch s {
	case policy.Canary:
		return 3
	case policy.BlueGreen:
		return 2
	case policy.Rolling:
		return 1
	case policy.Hotfix, policy.Rollback:
	}
	return 0
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// attention lists what a person should look at in one change.
func attention(c Change, env policy.Environment) []Attention {
	var out []Attention
	add := func(kind, text string) { out = append(out, Attention{Kind: kind, Text: text, SHA: c.SHA, PR: c.PR}) }
	if m := classed(c.Paths, change.Migration); len(m) > 0 {
		compat := "not marked backward compatible: a rollback holds for a human"
		if env.MigrationsBackwardCompatible {
			compat = "marked backward compatible (migrations_backward_compatible)"
		}
		add("migration", fmt.Sprintf("migration %s (%s)", strings.Join(m, ", "), compat))
	}
	switch {
	case !c.Assessed:
		add("unassessed", "ferry has not assessed it")
	case c.Level == risk.High:
		add("high-risk", "high risk: "+c.Top)
	}
	if c.Assessed && len(c.Proposal.NeedHuman) > 0 && len(c.Approvals) == 0 {
		add("unapproved", "never approved, where its route asked a human: "+strings.Join(c.Proposal.NeedHuman, "; "))
	}
	if c.IsRevert {
		add("revert", "a revert")
	}
	if i := classed(c.Paths, change.Infra); len(i) > 0 {
		add("infrastructure", "infrastructure: "+strings.Join(i, ", "))
	}
	if k := classed(c.Paths, change.Config); len(k) > 0 {
		add("configuration", "configuration: "+strings.Join(k, ", "))
	}
	if len(c.RolledBackIn) > 0 {
		add("rolled-back", "rolled back before in "+strings.Join(c.RolledBackIn, ", "))
	}
	return out
}

// classed are the paths of a class, at most three named.
func classed(paths []string, class change.Class) []string {
	var out []string
	for _, p := range paths {
		if change.Has(p, class) {
			out = append(out, p)
		}
	}
	if len(out) > 3 {
		out = append(out[:3], fmt.Sprintf("%d more", len(out)-3))
	}
	return out
}

// freezeWithin finds a freeze window that starts after now and before the
// deploy's watch would end.
func freezeWithin(env policy.Environment, now time.Time, watch time.Duration) (policy.Freeze, bool) {
	for _, f := range env.Freezes {
		if f.From.After(now) && !f.From.After(now.Add(watch+env.ProgressDeadline)) {
			return f, true
		}
	}
	return policy.Freeze{}, false
}

func short(sha string) string { return sha[:min(8, len(sha))] }
