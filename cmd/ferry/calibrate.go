package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"text/tabwriter"

	"github.com/ferry-ci/ferry/internal/calibrate"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
)

// CalibrateCmd replays a history through the risk model.
type CalibrateCmd struct {
	Repo       string  `name:"repo" help:"A local git repository: replay its first-parent history (reverts found from 'This reverts commit')." xor:"source"`
	Commits    string  `name:"commits" help:"A JSONL file of first-parent commits (the commits fixture format)." xor:"source" type:"existingfile"`
	Policy     string  `name:"policy" help:"A ferry.yml to calibrate (default: the built-in policy)." type:"existingfile"`
	FastPath   float64 `name:"fast-path" help:"Target fast-path share (default: the policy's fast_path_share, 0.6 by default)."`
	MaxCommits int     `name:"max-commits" default:"20000" help:"With --repo: the newest N first-parent commits at most."`
	Format     string  `name:"format" default:"text" enum:"text,json" help:"text or json."`
}

// Run implements the command.
func (c *CalibrateCmd) Run(e *env) error {
	if c.Repo == "" && c.Commits == "" {
		c.Repo = "."
	}
	p := policy.Default()
	if c.Policy != "" {
		b, err := os.ReadFile(c.Policy)
		if err != nil {
			return fmt.Errorf("read policy: %w", err)
		}
		if p, err = policy.Parse(b); err != nil {
			return usageError{err.Error()}
		}
	}
	var (
		commits []calibrate.Commit
		err     error
	)
	if c.Commits != "" {
		commits, err = readCommits(c.Commits)
	} else {
		commits, err = gitHistory(c.Repo, c.MaxCommits)
	}
	if err != nil {
		return err
	}
	if c.FastPath == 0 {
		c.FastPath = p.Learning.FastPathShare
	}
	if c.FastPath <= 0 || c.FastPath >= 1 {
		return usageError{fmt.Sprintf("--fast-path %v: a share between 0 and 1", c.FastPath)}
	}
	r := calibrate.Replay(commits, p, c.FastPath)
	if c.Format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return printReport(e.stdout, r, p, c.FastPath)
}

func readCommits(path string) ([]calibrate.Commit, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read commits: %w", err)
	}
	defer f.Close()
	var out []calibrate.Commit
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		var c calibrate.Commit
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read commits: %w", err)
	}
	return out, nil
}

func printReport(w io.Writer, r calibrate.Report, p policy.Policy, target float64) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "commits\t%d\n", r.Commits)
	fmt.Fprintf(tw, "reverted later\t%d\n", r.Reverted)
	fmt.Fprintf(tw, "fix follow-ups (weak)\t%d\n", r.FixFollowups)
	for _, l := range []risk.Level{risk.Low, risk.Medium, risk.High} {
		fmt.Fprintf(tw, "%s\t%d (%.1f%%)\n", l, r.Levels[l], 100*float64(r.Levels[l])/float64(max(1, r.Commits)))
	}
	fmt.Fprintf(tw, "model share of the scores\t%.2f\n", r.ModelShare)
	fmt.Fprintf(tw, "\tferry (%.0f%% target)\trules (medium %d, high %d)\tlines added (baseline)\n", 100*target, p.Thresholds.Medium, p.Thresholds.High)
	row := func(name string, f func(calibrate.Figures) float64) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, figure(f(r.Figures)), figure(f(r.Rules)), figure(f(r.Baseline)))
	}
	row("fast-path share", func(f calibrate.Figures) float64 { return float64(f.FastPathShare) })
	row("recall of reverted at medium+", func(f calibrate.Figures) float64 { return float64(f.RecallMediumPlus) })
	row("ROC AUC (reverted)", func(f calibrate.Figures) float64 { return float64(f.AUC) })
	row("ROC AUC (fix follow-ups)", func(f calibrate.Figures) float64 { return float64(f.AUCFixFollowup) })
	fmt.Fprintf(tw, "rules: suggested for %.0f%% fast path\tmedium %d, high %d (recall %.3f)\n",
		100*r.Suggested.FastPathShare, r.Suggested.Medium, r.Suggested.High, r.Suggested.RecallMediumPlus)
	return tw.Flush()
}

// figure prints a figure, "n/a" when undefined (no reverts, say).
func figure(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", f)
}
