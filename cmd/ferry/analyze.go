package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ferry-ci/ferry/internal/calibrate"
	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/render"
	"github.com/ferry-ci/ferry/internal/risk"
	"github.com/ferry-ci/ferry/internal/route"
)

// AnalyzeCmd assesses a local change as ferry would on its pull request.
type AnalyzeCmd struct {
	LocalChange `embed:""`
	Format      string `name:"format" default:"text" enum:"text,markdown,json" help:"text, markdown (the PR comment) or json."`
}

// LocalChange is a change in a local repository and what it is assessed
// with: the flags analyze and plan share.
type LocalChange struct {
	Repo    string `name:"repo" default:"." help:"The git repository."`
	Base    string `name:"base" help:"What the change is compared with (default: the merge base with the default branch, or HEAD~1 on it)."`
	Head    string `name:"head" default:"HEAD" help:"The change's last commit."`
	Policy  string `name:"policy" help:"A ferry.yml to use instead of .github/ferry.yml at the base." type:"existingfile"`
	History int    `name:"history" default:"1000" help:"How many earlier first-parent commits teach the history rule."`
}

// analysis is the JSON output.
type analysis struct {
	risk.Assessment
	Route route.Plan `json:"route"`
	Base  string     `json:"base"`
	Head  string     `json:"head"`
}

// assessed is a local change assessed and routed as on its pull request.
type assessed struct {
	base, head *object.Commit
	change     change.Change
	source     string // where the policy came from
	assessment risk.Assessment
	plan       route.Plan
}

// Run implements the command.
func (a *AnalyzeCmd) Run(e *env) error {
	as, err := a.assess(e)
	if err != nil {
		return err
	}
	if a.Format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(analysis{Assessment: as.assessment, Route: as.plan, Base: as.base.Hash.String(), Head: as.head.Hash.String()})
	}
	r, err := render.New()
	if err != nil {
		return err
	}
	v := render.NewRiskView(as.assessment, as.plan, as.head.Hash.String(), as.source, len(as.change.Files), nil)
	out, err := r.RiskText(v)
	if a.Format == "markdown" {
		out, err = r.RiskMarkdown(v)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(e.stdout, out)
	return err
}

// assess reads the change, its policy and the history before it, then
// assesses and routes it as the server would.
func (l LocalChange) assess(e *env) (assessed, error) {
	repo, err := git.Open(l.Repo)
	if err != nil {
		return assessed{}, usageError{err.Error()}
	}
	head, err := repo.Resolve(l.Head)
	if err != nil {
		return assessed{}, usageError{"--head: " + err.Error()}
	}
	base, err := repo.DefaultBase(head)
	if l.Base != "" {
		base, err = repo.Resolve(l.Base)
	}
	if err != nil {
		return assessed{}, usageError{"--base: " + err.Error()}
	}
	p, source, err := l.policy(repo, base)
	if err != nil {
		return assessed{}, err
	}
	ch, err := repo.Change(base, head)
	if err != nil {
		return assessed{}, err
	}
	past, err := recentHistory(e.ctx, repo, base, l.History)
	if err != nil {
		return assessed{}, err
	}
	a := risk.Assess(risk.Input{Change: ch, History: calibrate.History(past), Policy: p, Now: time.Now(), Kind: risk.PullRequest})
	return assessed{base: base, head: head, change: ch, source: source, assessment: a, plan: route.Make(a, ch, p)}, nil
}

// policy reads .github/ferry.yml from the base commit, as the server does:
// a change cannot loosen its own policy. --policy overrides it.
func (l LocalChange) policy(repo *git.Repo, base *object.Commit) (policy.Policy, string, error) {
	if l.Policy != "" {
		data, err := os.ReadFile(l.Policy)
		if err != nil {
			return policy.Policy{}, "", fmt.Errorf("read policy: %w", err)
		}
		return parsePolicy(data, l.Policy)
	}
	data, err := repo.FileAt(base, policy.Path)
	if err != nil {
		return policy.Policy{}, "", err
	}
	return parsePolicy(data, policy.Path+" at "+base.Hash.String()[:8])
}

func parsePolicy(data []byte, source string) (policy.Policy, string, error) {
	if data == nil {
		return policy.Default(), "defaults", nil
	}
	p, err := policy.Parse(data)
	if err != nil {
		return policy.Policy{}, "", usageError{fmt.Sprintf("%s: %v", source, err)}
	}
	return p, source, nil
}
