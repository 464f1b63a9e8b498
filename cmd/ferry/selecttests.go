package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/testsel"
)

// SelectTestsCmd prints which tests a change can affect — Go packages,
// Python and JavaScript/TypeScript test files, the policy's mapped
// targets — read from the repository's source (nothing is built or run).
type SelectTestsCmd struct {
	Repo   string `name:"repo" default:"." help:"The git repository."`
	Base   string `name:"base" help:"What the change is compared with (default: the merge base with the default branch)."`
	Head   string `name:"head" default:"HEAD" help:"The change's last commit."`
	Format string `name:"format" default:"json" enum:"json,go-packages,github-output" help:"json, go-packages (one per line, for go test), or github-output (lines for $GITHUB_OUTPUT)."`
}

// Run implements the command.
func (c *SelectTestsCmd) Run(e *env) error {
	repo, err := git.Open(c.Repo)
	if err != nil {
		return usageError{err.Error()}
	}
	head, err := repo.Resolve(c.Head)
	if err != nil {
		return usageError{"--head: " + err.Error()}
	}
	base, err := repo.DefaultBase(head)
	if c.Base != "" {
		base, err = repo.Resolve(c.Base)
	}
	if err != nil {
		return usageError{"--base: " + err.Error()}
	}
	tree, baseTree, changed, err := repo.Trees(base, head)
	if err != nil {
		return err
	}
	sel, problem := testsel.Plan(tree, baseTree, changed, testsel.Mappings(basePolicy(e, baseTree).TestMap))
	if problem != nil {
		fmt.Fprintf(e.stderr, "ferry: %v: nothing is quarantined\n", problem)
	}
	switch c.Format {
	case "go-packages":
		for _, p := range sel.Packages() {
			fmt.Fprintln(e.stdout, p)
		}
		return nil
	case "github-output":
		// One line each: GitHub's output file takes name=value lines.
		fmt.Fprintf(e.stdout, "all=%t\npackages=%s\ncount=%d\ntotal=%d\nquarantined=%s\n", sel.All, strings.Join(sel.Packages(), " "),
			len(sel.Targets), sel.Total, testsel.SkipPattern(sel.Quarantined, sel.Packages()))
		return nil
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(sel)
}

// basePolicy is the policy at --base, for its tests map — as on a pull
// request, a change does not steer its own selection (the defaults when
// absent; invalid, said on stderr, and no map: more is selected, never
// less).
func basePolicy(e *env, tree *git.Tree) policy.Policy {
	data, err := tree.Read(policy.Path)
	if err != nil {
		return policy.Default()
	}
	p, err := policy.Parse(data)
	if err != nil {
		fmt.Fprintf(e.stderr, "ferry: %v: its tests map is not used\n", err)
		return policy.Default()
	}
	return p
}
