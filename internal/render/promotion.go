package render

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/promotion"
	"github.com/ferry-ci/ferry/internal/risk"
)

// maxChangesShown and maxAttentionShown bound the table of changes and
// the list of what needs attention: a body must stay under GitHub's limit
// however long production was not deployed.
const (
	maxChangesShown   = 100
	maxAttentionShown = 50
)

// clip shortens text to n runes, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// PromotionView is what a production-deploy pull request's body shows.
type PromotionView struct {
	promotion.Summary
	Level               risk.Level
	Short, RunningShort string
	Rows                []PromotionRow
	More                int // changes left out of Rows
	MoreAttention       int // attention items left out
	Compare             string
	Earlier             []EarlierDeploy
	Watch               string // "" none
	Analysis            bool   // the environment's metrics are analysed
	Authors             int
	// InShort is a model's summary of what goes out, shown first; the
	// table and what needs attention stay ferry's own and the authority
	// (nil: none, and nothing is said).
	InShort *PromotionInShort
}

// PromotionInShort is a model's one to three sentences on a deploy.
type PromotionInShort struct {
	Model     string
	Sentences []Cited
	Skipped   string // why the model was not asked ("" it was)
}

// PromotionRow is one change.
type PromotionRow struct {
	SHA, Short, Title, Author string
	PR                        int
	Level                     risk.Level // "" not assessed
	Top                       string
	Approvals                 []string
	Source                    string // how it ran in the environment promoted from
}

// EarlierDeploy is an earlier deploy of the environment, for the links.
type EarlierDeploy struct{ ID, Short, Status string }

// NewPromotionView prepares a summary for display; repoURL is the
// repository's web address (for the compare link), now the time the body
// is written.
func NewPromotionView(s promotion.Summary, env policy.Environment, repoURL string, earlier []EarlierDeploy, now time.Time) PromotionView {
	v := PromotionView{Summary: s, Level: s.Plan.Level, Short: shortSHA(s.Candidate), RunningShort: shortSHA(s.Running),
		Earlier: earlier, Authors: len(s.Authors), Analysis: env.Analysis != nil}
	if v.Analysis && s.Plan.Watch > 0 {
		v.Watch = ago(s.Plan.Watch)
	}
	if len(s.Attention) > maxAttentionShown {
		v.Attention, v.MoreAttention = s.Attention[:maxAttentionShown], len(s.Attention)-maxAttentionShown
	}
	if u, err := url.Parse(repoURL); err == nil && u.Scheme == "https" && s.Running != "" {
		v.Compare = strings.TrimSuffix(repoURL, "/") + "/compare/" + s.Running + "..." + s.Candidate
	}
	for i, c := range s.Changes {
		if i == maxChangesShown {
			v.More = len(s.Changes) - i
			break
		}
		row := PromotionRow{SHA: c.SHA, Short: shortSHA(c.SHA), Title: clip(c.Title, 120), Author: c.Author, PR: c.PR, Top: clip(c.Top, 120),
			Approvals: c.Approvals}
		if c.Assessed {
			row.Level = c.Level
		}
		switch {
		case c.Source != nil && s.From != "":
			row.Source = fmt.Sprintf("deployed %s ago, ran %s", ago(now.Sub(c.Source.Since)), ago(c.Source.RanFor(now)))
		case s.From != "":
			row.Source = "with a later commit"
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// ago rounds a duration for people: seconds under two minutes, minutes
// under two hours, else hours, else days.
func ago(d time.Duration) string {
	switch {
	case d < 2*time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < 2*time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// Promotion renders a production-deploy pull request's body (ferry's part).
func (r *Renderer) Promotion(v PromotionView) (string, error) { return r.exec("promotion.md", v) }
