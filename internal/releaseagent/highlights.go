package releaseagent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ferry-ci/ferry/internal/cite"
	"github.com/ferry-ci/ferry/internal/llm"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/release"
	"github.com/ferry-ci/ferry/internal/render"
)

// Model is the language model that picks a release's highlights.
type Model interface {
	Ask(ctx context.Context, r llm.Request) (llm.Answer, error)
	Enabled() bool
	Model(t llm.Tier) string
}

// Bounds on what highlights send and keep.
const (
	highlightsMax       = 3
	highlightText       = 200      // characters of one highlight
	highlightsDataBytes = 32 << 10 // the entries sent
	highlightTitle      = 200      // characters of one entry's title sent
)

var highlightsSchema = &llm.Schema{Name: "release_highlights", JSON: cite.Schema("highlights", 0, highlightsMax, 10)}

const highlightsInstructions = `You pick the highlights of a software release for the people who use it: the few changes that matter most to them (new capabilities, breaking changes, important fixes), in plain words. You never invent a change: each highlight is about pull requests from the release's list.`

const highlightsTask = `Answer as JSON: "highlights" lists at most 3 highlights, the most important first; each has "text", one plain sentence of at most 200 characters without Markdown, and "prs", the numbers of the pull requests in the data it is about (at least one). Cite only numbers the data lists as "pr". An empty list is a valid answer when nothing stands out.`

// highlights asks the model for a release's highlights, for the top of
// its pull request. A model that is absent or fails leaves them out
// without a word; a spent budget says so in one line; only a cancelled
// job stops here. The question is the same for the same changes (sorted,
// deterministic), so the client's cache answers an update that changes
// nothing, and the body stays as it was.
func (a *Agent) highlights(ctx context.Context, r Repo, p policy.Policy, n release.Notes) (*render.ReleaseHighlights, error) {
	m := a.deps.Model
	items, known := highlightEntries(n)
	if !m.Enabled() || len(items) < 2 || len(known) == 0 {
		return nil, nil // one change is its own highlight
	}
	cited, ans, err := llm.AskFor(ctx, m, llm.Request{Installation: r.InstallationID, Feature: "highlights", Tier: llm.Fast,
		Instructions: highlightsInstructions, Data: []llm.Section{{Name: "release entries (JSON lines)", Text: cite.Lines(items, highlightsDataBytes)}},
		Task: highlightsTask, Schema: highlightsSchema, MaxTokens: 600, Budget: p.LLM.DailyTokens},
		func(b []byte) ([]cite.Text, error) {
			return cite.Parse(b, "highlights", highlightsMax, highlightText, known)
		})
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("highlights of %s: %w", n.Tag, ctx.Err())
	case errors.Is(err, llm.ErrBudget):
		return &render.ReleaseHighlights{Skipped: "the daily token budget is spent"}, nil
	case err != nil:
		a.cfg.Logger.WarnContext(ctx, "release highlights left out", "repository", r.fullName(), "tag", n.Tag, "err", err)
		return nil, nil
	case len(cited) == 0:
		return nil, nil
	}
	return &render.ReleaseHighlights{Model: ans.Model, Items: cited}, nil
}

// entry is one change as the model sees it: all of it repository content.
type entry struct {
	PR       int      `json:"pr,omitempty"`
	Type     string   `json:"type"`
	Title    string   `json:"title"`
	Labels   []string `json:"labels,omitempty"`
	Breaking bool     `json:"breaking,omitempty"`
}

// highlightEntries are the release's entries, one per pull request (a
// rebase merge's commits are one), sorted by number, then entries
// without one by title; known are the pull request numbers.
func highlightEntries(n release.Notes) ([]entry, map[int]bool) {
	var out []entry
	known := map[int]bool{}
	for _, s := range n.Sections {
		for _, e := range s.Entries {
			if e.PR > 0 && known[e.PR] {
				continue
			}
			known[e.PR] = e.PR > 0
			title := e.Subject
			if e.Scope != "" {
				title = e.Scope + ": " + title
			}
			out = append(out, entry{PR: e.PR, Type: s.Key, Title: cite.Clip(title, highlightTitle), Labels: e.Labels, Breaking: e.Breaking})
		}
	}
	delete(known, 0)
	slices.SortStableFunc(out, func(x, y entry) int {
		if x.PR != y.PR {
			return cite.ByPR(x.PR, y.PR)
		}
		return strings.Compare(x.Title, y.Title)
	})
	return out, known
}
