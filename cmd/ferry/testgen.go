package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/testgen"
)

// TestgenCmd proposes tests for a local change's changed lines that no
// test covers, and keeps only those that compile, pass three runs in a
// row, raise the changed lines' coverage and fail on a mutant of them. It
// runs the repository's code, in a scratch worktree of --head.
type TestgenCmd struct {
	Repo    string        `name:"repo" default:"." help:"The git repository. Its working tree is left as it is, unless --write."`
	Base    string        `name:"base" help:"What the change is compared with (default: the merge base with the default branch, or HEAD~1 on it)."`
	Head    string        `name:"head" default:"HEAD" help:"The change's last commit."`
	Format  string        `name:"format" default:"text" enum:"text,json" help:"text or json (kept tests' sources included)."`
	Write   bool          `name:"write" help:"Write the kept tests into --repo's working tree; --head must be its checked-out HEAD."`
	Timeout time.Duration `name:"timeout" default:"10m" help:"Time limit of the whole run."`
	Race    string        `name:"race" default:"auto" enum:"auto,on,off" help:"Run candidates with the race detector: auto (where cgo and a C compiler are), on or off."`
	Go      string        `name:"go" default:"go" help:"The go command."`
	LLMFlags

	// gen, in tests, replaces the generator the flags choose.
	gen func() testgen.Generator
}

// Run implements the command.
func (c *TestgenCmd) Run(e *env) error {
	base, head, err := c.commits()
	if err != nil {
		return err
	}
	if err := c.LLMFlags.validate(); err != nil {
		return err
	}
	gen, ledger, err := c.generator(e)
	if err != nil {
		return err
	}
	rep, err := testgen.Generate(e.ctx, testgen.Options{
		Repo: c.Repo, Base: base, Head: head, Generator: gen, Progress: e.stderr, Timeout: c.Timeout,
		Filter: testgen.FilterConfig{Go: c.Go, Race: c.Race},
	})
	if err != nil {
		return fmt.Errorf("testgen: %w", err)
	}
	rep.LLM = ledger.spend()
	if c.Write {
		files, err := testgen.WriteKept(e.ctx, c.Repo, rep)
		if err != nil {
			return err
		}
		for _, f := range files {
			fmt.Fprintf(e.stderr, "testgen: wrote %s\n", f)
		}
	}
	if c.Format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(e.stdout)
}

// commits resolves --base and --head as the other local commands do. With
// --write, head must be the working tree's HEAD: the tests are written
// next to the code they were checked against, and that is refused before
// the long work, not after.
func (c *TestgenCmd) commits() (base, head string, err error) {
	repo, err := git.Open(c.Repo)
	if err != nil {
		return "", "", usageError{err.Error()}
	}
	defer repo.Close()
	h, err := repo.Resolve(c.Head)
	if err != nil {
		return "", "", usageError{"--head: " + err.Error()}
	}
	b, err := repo.DefaultBase(h)
	if c.Base != "" {
		b, err = repo.Resolve(c.Base)
	}
	if err != nil {
		return "", "", usageError{"--base: " + err.Error()}
	}
	if c.Write {
		checkedOut, err := repo.Resolve("HEAD")
		if err != nil || checkedOut.Hash != h.Hash {
			return "", "", usageError{"--write: --head must be the commit checked out in --repo"}
		}
	}
	return b.Hash.String(), h.Hash.String(), nil
}
