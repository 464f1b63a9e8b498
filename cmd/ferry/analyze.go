package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ferry-ci/ferry/internal/calibrate"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/render"
	"github.com/ferry-ci/ferry/internal/risk"
	"github.com/ferry-ci/ferry/internal/route"
)

// AnalyzeCmd assesses a local change as ferry would on its pull request.
type AnalyzeCmd struct {
	Repo    string `name:"repo" default:"." help:"The git repository."`
	Base    string `name:"base" help:"What the change is compared with (default: the merge base with the default branch, or HEAD~1 on it)."`
	Head    string `name:"head" default:"HEAD" help:"The change's last commit."`
	Policy  string `name:"policy" help:"A ferry.yml to use instead of .github/ferry.yml at the base." type:"existingfile"`
	History int    `name:"history" default:"1000" help:"How many earlier first-parent commits teach the history rule."`
	Format  string `name:"format" default:"text" enum:"text,markdown,json" help:"text, markdown (the PR comment) or json."`
}

// analysis is the JSON output.
type analysis struct {
	risk.Assessment
	Route route.Plan `json:"route"`
	Base  string     `json:"base"`
	Head  string     `json:"head"`
}

// Run implements the command.
func (a *AnalyzeCmd) Run(e *env) error {
	repo, err := git.Open(a.Repo)
	if err != nil {
		return usageError{err.Error()}
	}
	head, err := repo.Resolve(a.Head)
	if err != nil {
		return usageError{"--head: " + err.Error()}
	}
	base, err := repo.DefaultBase(head)
	if a.Base != "" {
		base, err = repo.Resolve(a.Base)
	}
	if err != nil {
		return usageError{"--base: " + err.Error()}
	}
	p, source, err := a.policy(repo, base)
	if err != nil {
		return err
	}
	ch, err := repo.Change(base, head)
	if err != nil {
		return err
	}
	past, err := recentHistory(e.ctx, repo, base, a.History)
	if err != nil {
		return err
	}
	as := risk.Assess(risk.Input{Change: ch, History: calibrate.History(past), Policy: p, Now: time.Now(), Kind: risk.PullRequest})
	plan := route.Make(as, p)
	if a.Format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(analysis{Assessment: as, Route: plan, Base: base.Hash.String(), Head: head.Hash.String()})
	}
	r, err := render.New()
	if err != nil {
		return err
	}
	v := render.NewRiskView(as, plan, head.Hash.String(), source, len(ch.Files), nil)
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

// policy reads .github/ferry.yml from the base commit, as the server does:
// a change cannot loosen its own policy. --policy overrides it.
func (a *AnalyzeCmd) policy(repo *git.Repo, base *object.Commit) (policy.Policy, string, error) {
	if a.Policy != "" {
		data, err := os.ReadFile(a.Policy)
		if err != nil {
			return policy.Policy{}, "", fmt.Errorf("read policy: %w", err)
		}
		return parsePolicy(data, a.Policy)
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
