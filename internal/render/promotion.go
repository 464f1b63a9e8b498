package render

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/promotion"
	"github.com/ferry-ci/ferry/internal/risk"
)

// maxChangesShown bounds the table of changes: a body must stay under
// GitHub's limit however long production was not deployed.
const maxChangesShown = 100

// PromotionView is what a production-deploy pull request's body shows.
type PromotionView struct {
	promotion.Summary
	Level                     risk.Level
	Short, RunningShort       string
	Rows                      []PromotionRow
	More                      int // changes left out of Rows
	Compare                   string
	Earlier                   []EarlierDeploy
	Watch                     string // "" none
	Authors                   int
	AuthorsApprove            bool
	SourceLabel               string // "staging", or "the default branch"
	StartsWhen, BlockedReason string
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
func NewPromotionView(s promotion.Summary, repoURL string, authorsApprove bool, earlier []EarlierDeploy, now time.Time) PromotionView {
	v := PromotionView{Summary: s, Level: s.Plan.Level, Short: shortSHA(s.Candidate), RunningShort: shortSHA(s.Running),
		Earlier: earlier, Authors: len(s.Authors), AuthorsApprove: authorsApprove, SourceLabel: s.From, BlockedReason: s.Blocked}
	if v.SourceLabel == "" {
		v.SourceLabel = "the default branch"
	}
	if s.Plan.Watch > 0 {
		v.Watch = s.Plan.Watch.String()
	}
	if u, err := url.Parse(repoURL); err == nil && u.Scheme == "https" && s.Running != "" {
		v.Compare = strings.TrimSuffix(repoURL, "/") + "/compare/" + s.Running + "..." + s.Candidate
	}
	for i, c := range s.Changes {
		if i == maxChangesShown {
			v.More = len(s.Changes) - i
			break
		}
		row := PromotionRow{SHA: c.SHA, Short: shortSHA(c.SHA), Title: c.Title, Author: c.Author, PR: c.PR, Top: c.Top,
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

// ago rounds a duration for people: minutes under two hours, else hours,
// else days.
func ago(d time.Duration) string {
	switch {
	case d < 2*time.Minute:
		return "1 min"
	case d < 2*time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// Promotion renders a production-deploy pull request's body (ferry's part).
func (r *Renderer) Promotion(v PromotionView) (string, error) { return r.exec("promotion.md", v) }
