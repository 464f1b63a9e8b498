package promoteagent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ferry-ci/ferry/internal/cite"
	"github.com/ferry-ci/ferry/internal/llm"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/promotion"
	"github.com/ferry-ci/ferry/internal/render"
)

// Model is the language model that sums up a deploy.
type Model interface {
	Ask(ctx context.Context, r llm.Request) (llm.Answer, error)
	Enabled() bool
	Model(t llm.Tier) string
}

// Bounds on what a summary sends and keeps.
const (
	inShortSentences = 3
	inShortText      = 200      // characters of one sentence
	inShortDataBytes = 32 << 10 // the changes sent
	inShortTitle     = 200      // characters of one change's title sent
)

var inShortSchema = &llm.Schema{Name: "deploy_in_short", JSON: cite.Schema("sentences", 1, inShortSentences, 20)}

const inShortInstructions = `You sum up, for the person who approves a production deploy, what the deploy ships: what users will notice and what carries risk, in plain words. You never invent a change: each sentence is about pull requests from the deploy's list. ferry lists every change and what needs attention below your summary; do not repeat the list.`

const inShortTask = `Answer as JSON: "sentences" holds 1 to 3 plain sentences, each of at most 200 characters without Markdown, as "text", with "prs", the numbers of the pull requests in the data it is about (at least one). Cite only numbers the data lists as "pr".`

// inShort asks the model to sum up what goes out, for the top of the
// production-deploy pull request. A model that is absent or fails leaves
// it out without a word; a spent budget says so in one line; only a
// cancelled job stops here. The same changes make the same question (in
// a fixed order), which the client's cache answers.
func (a *Agent) inShort(ctx context.Context, r Repo, p policy.Policy, changes []promotion.Change) (*render.PromotionInShort, error) {
	m := a.deps.Model
	items, known := shortChanges(changes)
	if !m.Enabled() || len(items) < 2 || len(known) == 0 {
		return nil, nil // one change says it all itself
	}
	sentences, ans, err := llm.AskFor(ctx, m, llm.Request{Installation: r.InstallationID, Feature: "in-short", Tier: llm.Fast,
		Instructions: inShortInstructions, Data: []llm.Section{{Name: "changes going out (JSON lines)", Text: cite.Lines(items, inShortDataBytes)}},
		Task: inShortTask, Schema: inShortSchema, MaxTokens: 500, Budget: p.LLM.DailyTokens},
		func(b []byte) ([]cite.Text, error) {
			return cite.Parse(b, "sentences", inShortSentences, inShortText, known)
		})
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("summing up the deploy: %w", ctx.Err())
	case errors.Is(err, llm.ErrBudget):
		return &render.PromotionInShort{Skipped: "the daily token budget is spent"}, nil
	case err != nil:
		a.cfg.Logger.WarnContext(ctx, "deploy summary left out", "repository", r.fullName(), "err", err)
		return nil, nil
	case len(sentences) == 0:
		return nil, nil
	}
	return &render.PromotionInShort{Model: ans.Model, Sentences: sentences}, nil
}

// shortChange is one change as the model sees it: its title is the
// repository's; its risk is ferry's.
type shortChange struct {
	PR     int    `json:"pr,omitempty"`
	Title  string `json:"title"`
	Risk   string `json:"risk"`
	Revert bool   `json:"revert,omitempty"`
}

// shortChanges are the changes sorted by pull request (commits without
// one last, by title), and the pull requests among them.
func shortChanges(changes []promotion.Change) ([]shortChange, map[int]bool) {
	out := make([]shortChange, 0, len(changes))
	known := map[int]bool{}
	for _, c := range changes {
		level := "not assessed"
		if c.Assessed {
			level = string(c.Level)
		}
		if c.PR > 0 {
			known[c.PR] = true
		}
		out = append(out, shortChange{PR: c.PR, Title: cite.Clip(c.Title, inShortTitle), Risk: level, Revert: c.IsRevert})
	}
	slices.SortStableFunc(out, func(x, y shortChange) int {
		if x.PR == y.PR {
			return strings.Compare(x.Title, y.Title)
		}
		return cite.ByPR(x.PR, y.PR)
	})
	return out, known
}
