package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	yaml "go.yaml.in/yaml/v4"
	k8syaml "sigs.k8s.io/yaml"

	"github.com/ferry-ci/ferry/manifest"
)

// Problem is one thing wrong in a policy file, where it is.
type Problem struct {
	Line    int    // 1-based; 0 when unknown
	Pointer string // JSON pointer, e.g. /risk/thresholds/high
	Message string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	}
	return p.Message
}

// InvalidError is a policy file that cannot be used as written. (A file
// that could not be read at all is the caller's error, kept apart.)
type InvalidError struct{ Problems []Problem }

func (e *InvalidError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.String()
	}
	return Path + ": " + strings.Join(msgs, "; ")
}

// IsInvalid tells whether err is an InvalidError.
func IsInvalid(err error) bool {
	var ie *InvalidError
	return errors.As(err, &ie)
}

// raw mirrors the file.
type raw struct {
	Version int `json:"version"`
	Risk    struct {
		Thresholds *struct {
			Medium *int `json:"medium"`
			High   *int `json:"high"`
		} `json:"thresholds"`
		FastPathShare *float64 `json:"fast_path_share"`
		Learning      *struct {
			Enabled         *bool `json:"enabled"`
			BackfillCommits *int  `json:"backfill_commits"`
			BackfillDays    *int  `json:"backfill_days"`
		} `json:"learning"`
		Weights map[string]float64 `json:"weights"`
		Paths   []struct {
			Glob   string  `json:"glob"`
			Rule   string  `json:"rule"`
			Weight float64 `json:"weight"`
		} `json:"paths"`
		RequireHuman       []string `json:"require_human"`
		HighRiskConclusion string   `json:"high_risk_conclusion"`
		WorkingHours       *struct {
			Timezone string   `json:"timezone"`
			Days     []string `json:"days"`
			Start    string   `json:"start"`
			End      string   `json:"end"`
		} `json:"working_hours"`
	} `json:"risk"`
	Commands map[string]struct {
		Permission string   `json:"permission"`
		Users      []string `json:"users"`
	} `json:"commands"`
	Environments   map[string]rawEnvironment `json:"environments"`
	Limits         *rawLimits                `json:"limits"`
	RequiredChecks []string                  `json:"required_checks"`
	Release        *rawRelease               `json:"release"`
	Tests          *struct {
		Quarantine *struct {
			Auto         bool   `json:"auto"`
			MinEvents    int    `json:"min_events"`
			Window       string `json:"window"`
			ReleaseAfter int    `json:"release_after"`
		} `json:"quarantine"`
		Map []struct {
			Glob    string   `json:"glob"`
			Targets []string `json:"targets"`
		} `json:"map"`
		Generate any `json:"generate"` // YAML reads a bare off as false
	} `json:"tests"`
	Build *struct {
		OptimizeDockerfiles string `json:"optimize_dockerfiles"`
	} `json:"build"`
	LLM *struct {
		SecondOpinion *bool `json:"second_opinion"`
		DailyTokens   int64 `json:"daily_tokens"`
	} `json:"llm"`
}

// Parse reads a policy file with the server's default options.
func Parse(data []byte) (Policy, error) { return ParseWith(data, Options{}) }

// ParseWith reads a policy file: YAML, checked against the published
// schema, then for what a schema cannot say and the server's options
// forbid. An empty file is the default policy.
func ParseWith(data []byte, o Options) (Policy, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Policy{}, &InvalidError{Problems: []Problem{syntaxProblem(err)}}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Default(), nil
	}
	js, err := k8syaml.YAMLToJSON(data)
	if err != nil {
		return Policy{}, &InvalidError{Problems: []Problem{syntaxProblem(err)}}
	}
	if string(bytes.TrimSpace(js)) == "null" { // only comments
		return Default(), nil
	}
	if probs := validate(js, &root); len(probs) > 0 {
		return Policy{}, &InvalidError{Problems: probs}
	}
	var r raw
	if err := json.Unmarshal(js, &r); err != nil {
		return Policy{}, &InvalidError{Problems: []Problem{{Message: err.Error()}}}
	}
	p, probs := build(r, o)
	for i := range probs {
		probs[i].Line = lineOf(&root, probs[i].Pointer)
	}
	if len(probs) > 0 {
		return Policy{}, &InvalidError{Problems: probs}
	}
	return p, nil
}

var (
	yamlLine = regexp.MustCompile(`line (\d+)`)
	extraKey = regexp.MustCompile(`additional propert(?:y|ies) '([^']+)'`)
)

func syntaxProblem(err error) Problem {
	p := Problem{Message: "not valid YAML: " + err.Error()}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
	}
	return p
}

func validate(js []byte, root *yaml.Node) []Problem {
	c := jsonschema.NewCompiler()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(manifest.PolicySchema))
	if err == nil {
		err = c.AddResource("ferry.schema.json", doc)
	}
	var schema *jsonschema.Schema
	if err == nil {
		schema, err = c.Compile("ferry.schema.json")
	}
	if err != nil {
		panic(fmt.Sprintf("the embedded policy schema does not compile: %v", err)) // a build defect
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return []Problem{{Message: err.Error()}}
	}
	err = schema.Validate(inst)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var out []Problem
	for _, u := range ve.BasicOutput().Errors {
		if u.Error == nil || strings.HasPrefix(u.Error.String(), "validation failed") {
			continue
		}
		msg, at := u.Error.String(), u.InstanceLocation
		if u.InstanceLocation != "" {
			msg = u.InstanceLocation + ": " + msg
		}
		if m := extraKey.FindStringSubmatch(msg); m != nil {
			at += "/" + m[1] // point at the unknown key itself
		}
		out = append(out, Problem{Line: lineOf(root, at), Pointer: u.InstanceLocation, Message: msg})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

// lineOf finds the line of the YAML value at a JSON pointer (or of the
// nearest ancestor that exists).
func lineOf(root *yaml.Node, pointer string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		next, at := child(n, tok)
		if next == nil {
			break
		}
		n, line = next, at
	}
	return line
}

// child returns the value under tok and the line to show: a mapping
// entry's key line (where a reader looks), an item's own line.
func child(n *yaml.Node, tok string) (*yaml.Node, int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == tok {
				return n.Content[i+1], n.Content[i].Line
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i], n.Content[i].Line
		}
	}
	return nil, 0
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// build merges the file over the defaults and checks what the schema cannot.
func build(r raw, o Options) (Policy, []Problem) {
	p := Default()
	p.Limits = limits(r.Limits)
	testsPolicy(&p, r)
	if r.Build != nil {
		p.OptimizeDockerfiles = r.Build.OptimizeDockerfiles == "auto"
	}
	if r.LLM != nil {
		if r.LLM.SecondOpinion != nil {
			p.LLM.SecondOpinion = *r.LLM.SecondOpinion
		}
		p.LLM.DailyTokens = r.LLM.DailyTokens
	}
	p.RequiredChecks = r.RequiredChecks
	var probs []Problem
	p.Release, probs = release(r.Release)
	learning(&p.Learning, r)
	probs = append(probs, riskPolicy(&p, r)...)
	for verb, c := range r.Commands {
		if p.Commands == nil {
			p.Commands = map[string]CommandRule{}
		}
		p.Commands[verb] = CommandRule{Permission: c.Permission, Users: c.Users}
	}
	for name, re := range r.Environments {
		env, eprobs := environment(name, re)
		probs = append(probs, eprobs...)
		probs = append(probs, scopeProblems(name, re, o)...)
		if p.Environments == nil {
			p.Environments = map[string]Environment{}
		}
		p.Environments[name] = env
	}
	return p, append(probs, promotionSources(p.Environments)...)
}

// riskPolicy merges the risk section over p's defaults: thresholds,
// weights, path rules, who must look, the conclusion and working hours.
func riskPolicy(p *Policy, r raw) []Problem {
	var probs []Problem
	if t := r.Risk.Thresholds; t != nil {
		p.Thresholds.Explicit = true
		if t.Medium != nil {
			p.Thresholds.Medium = *t.Medium
		}
		if t.High != nil {
			p.Thresholds.High = *t.High
		}
	}
	if p.Thresholds.Medium >= p.Thresholds.High {
		probs = append(probs, Problem{Pointer: "/risk/thresholds", Message: fmt.Sprintf(
			"thresholds: medium (%d) must be below high (%d)", p.Thresholds.Medium, p.Thresholds.High)})
	}
	for rule, w := range r.Risk.Weights {
		p.Weights[rule] = w
	}
	for _, pr := range r.Risk.Paths {
		p.Paths = append(p.Paths, PathRule{Glob: NewGlob(pr.Glob), Rule: pr.Rule, Weight: pr.Weight})
	}
	for _, g := range r.Risk.RequireHuman {
		p.RequireHuman = append(p.RequireHuman, NewGlob(g))
	}
	if r.Risk.HighRiskConclusion != "" {
		p.HighRiskConclusion = r.Risk.HighRiskConclusion
	}
	if wh := r.Risk.WorkingHours; wh != nil {
		probs = append(probs, workingHours(&p.WorkingHours, wh.Timezone, wh.Days, wh.Start, wh.End)...)
	}
	return probs
}

// promotionSources checks that each promoted environment promotes from one
// that exists.
func promotionSources(envs map[string]Environment) []Problem {
	var probs []Problem
	for name, e := range envs {
		if from := e.Promote.From; from != "" && from != name {
			if _, ok := envs[from]; !ok {
				probs = append(probs, Problem{Pointer: "/environments/" + name + "/promote_from",
					Message: fmt.Sprintf("promote_from names %q, which is not an environment here", from)})
			}
		}
	}
	sort.Slice(probs, func(i, j int) bool { return probs[i].Pointer < probs[j].Pointer })
	return probs
}

func workingHours(w *WorkingHours, tz string, days []string, start, end string) []Problem {
	var probs []Problem
	if tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			probs = append(probs, Problem{Pointer: "/risk/working_hours/timezone", Message: fmt.Sprintf("unknown time zone %q", tz)})
		} else {
			w.Location = loc
		}
	}
	if days != nil {
		w.Days = nil
		for _, d := range days {
			w.Days = append(w.Days, weekdays[d])
		}
	}
	clock := func(s string) time.Duration {
		h, _ := strconv.Atoi(s[:2])
		m, _ := strconv.Atoi(s[3:])
		return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	}
	if start != "" {
		w.Start = clock(start)
	}
	if end != "" {
		w.End = clock(end)
	}
	if w.Start >= w.End {
		probs = append(probs, Problem{Pointer: "/risk/working_hours", Message: "working_hours: start must be before end"})
	}
	return probs
}

// learning merges the file's risk.learning and fast_path_share.
func learning(l *Learning, r raw) {
	if r.Risk.FastPathShare != nil {
		l.FastPathShare = *r.Risk.FastPathShare
	}
	if x := r.Risk.Learning; x != nil {
		if x.Enabled != nil {
			l.Enabled = *x.Enabled
		}
		if x.BackfillCommits != nil {
			l.BackfillCommits = *x.BackfillCommits
		}
		if x.BackfillDays != nil {
			l.BackfillDays = *x.BackfillDays
		}
	}
}

// testsPolicy reads the tests section: the quarantine settings over their
// defaults, and the map.
func testsPolicy(p *Policy, r raw) {
	if r.Tests == nil {
		return
	}
	if q := r.Tests.Quarantine; q != nil {
		p.Quarantine.Auto = q.Auto
		if q.MinEvents > 0 {
			p.Quarantine.MinEvents = q.MinEvents
		}
		if q.Window != "" {
			p.Quarantine.Window, _ = time.ParseDuration(q.Window) // the schema checked its form
		}
		if q.ReleaseAfter > 0 {
			p.Quarantine.ReleaseAfter = q.ReleaseAfter
		}
	}
	for _, m := range r.Tests.Map {
		p.TestMap = append(p.TestMap, TestMapping{Glob: m.Glob, Targets: m.Targets})
	}
	if g, _ := r.Tests.Generate.(string); g != "off" {
		p.GenerateTests = g // the schema checked it: medium, high, or off (false)
	}
}
