package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/store"
)

// AuditCmd lists ferry's decisions.
type AuditCmd struct {
	DatabaseFlags
	Repo   string        `name:"repo" help:"Only this repository (owner/name)."`
	Since  time.Duration `name:"since" default:"168h" help:"How far back (e.g. 24h, 720h)."`
	Limit  int           `name:"limit" default:"1000" help:"At most this many, newest first."`
	Format string        `name:"format" default:"text" enum:"text,json" help:"text or json (one array)."`
}

// Run implements the command.
func (c *AuditCmd) Run(e *env) error {
	if err := c.validate(); err != nil {
		return err
	}
	if c.Repo != "" && strings.Count(c.Repo, "/") != 1 {
		return usageError{fmt.Sprintf("--repo: must be owner/name, got %q", c.Repo)}
	}
	if c.Since <= 0 || c.Limit <= 0 {
		return usageError{"--since and --limit must be positive"}
	}
	log, err := e.cli.logger(e.stderr)
	if err != nil {
		return err
	}
	db, _, err := c.open(e.ctx, log)
	if err != nil {
		return err
	}
	defer db.Close()
	ds, err := db.Decisions(e.ctx, audit.Filter{Repository: c.Repo, Since: time.Now().Add(-c.Since), Limit: c.Limit})
	if err != nil {
		return err
	}
	if c.Format == "json" {
		if ds == nil {
			ds = []audit.Decision{} // an empty window is [], not null or nothing
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ds)
	}
	if err := printDecisions(e, ds); err != nil {
		return err
	}
	spent, err := db.LLMUsage(e.ctx, 0, time.Now().Add(-c.Since))
	if err != nil {
		return err
	}
	return printLLMSpend(e, spent)
}

// printLLMSpend: what ferry's model cost in the window, by feature and
// model (cached answers cost nothing and are counted apart).
func printLLMSpend(e *env, spent []store.LLMSpend) error {
	if len(spent) == 0 {
		return nil
	}
	fmt.Fprintln(e.stdout, "\nlanguage model, by feature:")
	for _, s := range spent {
		if _, err := fmt.Fprintf(e.stdout, "    %-16s %-20s %4d calls (%d cached)  %d prompt + %d completion tokens\n",
			s.Feature, s.Model, s.Calls, s.Cached, s.PromptTokens, s.CompletionTokens); err != nil {
			return err
		}
	}
	return nil
}

func printDecisions(e *env, ds []audit.Decision) error {
	if len(ds) == 0 {
		_, err := fmt.Fprintln(e.stdout, "no decisions in that window")
		return err
	}
	for _, d := range ds {
		if _, err := fmt.Fprintln(e.stdout, d.Text()); err != nil {
			return err
		}
		for _, r := range d.Reasons {
			fmt.Fprintf(e.stdout, "    %-16s %s\n", r.Rule, r.Summary)
		}
	}
	return printRollbackPrecision(e, ds)
}

// printRollbackPrecision: of ferry's automatic rollbacks with a known
// outcome, how many were right — per repository.
func printRollbackPrecision(e *env, ds []audit.Decision) error {
	type tally struct{ right, wrong, unknown int }
	by := map[string]*tally{}
	var repos []string
	for _, d := range ds {
		if d.Kind != "rollback" || d.Actor != audit.Ferry {
			continue
		}
		t := by[d.Repository]
		if t == nil {
			t = &tally{}
			by[d.Repository] = t
			repos = append(repos, d.Repository)
		}
		switch d.Outcome {
		case "right":
			t.right++
		case "wrong", "probable-false-positive":
			t.wrong++
		default:
			t.unknown++
		}
	}
	for _, repo := range repos {
		t := by[repo]
		precision := "n/a"
		if t.right+t.wrong > 0 {
			precision = fmt.Sprintf("%.2f", float64(t.right)/float64(t.right+t.wrong))
		}
		if _, err := fmt.Fprintf(e.stdout, "rollbacks in %s: %d right, %d wrong or probable false positives, %d not judged yet; precision %s\n",
			repo, t.right, t.wrong, t.unknown, precision); err != nil {
			return err
		}
	}
	return nil
}
