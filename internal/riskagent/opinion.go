package riskagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/cite"
	"github.com/ferry-ci/ferry/internal/llm"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
)

// Model is the language model a second opinion asks.
type Model interface {
	Ask(ctx context.Context, r llm.Request) (llm.Answer, error)
	Enabled() bool
	Model(t llm.Tier) string
}

// Bounds on what a second opinion sends and keeps.
const (
	opinionDiffBytes = 60 << 10 // the diff sent, all files together
	opinionConcerns  = 5
	opinionSummary   = 300 // characters of one concern
)

var opinionSchema = &llm.Schema{Name: "second_opinion", JSON: json.RawMessage(`{
  "type": "object",
  "additionalProperties": false,
  "required": ["level", "concerns"],
  "properties": {
    "level": {"type": "string", "enum": ["low", "medium", "high"]},
    "concerns": {
      "type": "array",
      "maxItems": 5,
      "items": {
        "type": "object",
        "additionalProperties": false,
        "required": ["file", "line", "severity", "concern"],
        "properties": {
          "file": {"type": "string"},
          "line": {"type": "integer", "minimum": 1},
          "severity": {"type": "string", "enum": ["low", "medium", "high"]},
          "concern": {"type": "string"}
        }
      }
    }
  }
}`)}

const opinionInstructions = `You review a code change for the risk of breaking production. A rule-based scorer has already flagged it as medium or high risk; look for what rules miss: changed behaviour callers rely on, security (authentication, authorization, injection, secrets), data loss or irreversible migrations, backward compatibility of APIs and schemas, concurrency, error handling.`

const opinionTask = `Answer as JSON: "level" is how risky you judge the change (low, medium or high); "concerns" lists at most 5 specific problems, each with the file and a line number in the new version that the diff adds ("+" lines), a severity, and one sentence. Name only lines the diff adds. No concerns is a valid answer.`

// secondOpinion asks the model about a medium or high risk pull request
// and keeps what it says that points at changed lines. A model that is
// absent, out of budget or unreachable leaves the assessment as the rules
// made it; only a cancelled job stops here.
func (o *Agent) secondOpinion(ctx context.Context, s Subject, ch change.Change, p policy.Policy, a risk.Assessment) (risk.Assessment, error) {
	m := o.deps.Model
	if !m.Enabled() || !p.LLM.SecondOpinion || a.Level.Rank() < risk.Medium.Rank() || a.FastPath != "" {
		return a, nil
	}
	ans, err := m.Ask(ctx, llm.Request{Installation: s.InstallationID, Feature: "second-opinion", Tier: llm.Strong,
		Instructions: opinionInstructions, Data: opinionData(s, ch), Task: opinionTask, Schema: opinionSchema,
		MaxTokens: 1500, Budget: p.LLM.DailyTokens})
	op := risk.Opinion{Model: m.Model(llm.Strong)}
	switch {
	case ctx.Err() != nil:
		return a, fmt.Errorf("second opinion on #%d: %w", s.Number, ctx.Err())
	case errors.Is(err, llm.ErrBudget):
		op.Skipped = "the daily token budget is spent"
	case errors.Is(err, llm.ErrInvalid):
		op.Skipped = "the model's answer was not valid"
	case err != nil:
		o.cfg.Logger.WarnContext(ctx, "second opinion failed; the rules' assessment stands", "err", err)
		op.Skipped = "the model could not be reached"
	default:
		op = opinionOf(ans, ch)
	}
	return a.WithOpinion(op), nil
}

// opinionData is the pull request as the model sees it: all of it data.
func opinionData(s Subject, ch change.Change) []llm.Section {
	var b strings.Builder
	left := 0
	for _, f := range ch.Files {
		if f.Patch == "" {
			continue
		}
		piece := "--- " + f.Path + "\n" + f.Patch + "\n"
		if b.Len()+len(piece) > opinionDiffBytes {
			left++
			continue
		}
		b.WriteString(piece)
	}
	if left > 0 {
		fmt.Fprintf(&b, "(%d more changed files not shown)\n", left)
	}
	return []llm.Section{{Name: "pull request title", Text: s.Title}, {Name: "diff", Text: b.String()}}
}

// opinionOf keeps the concerns that name a line the change adds; the
// others are counted, not shown: a model's claim about a line the change
// does not touch is not evidence about this change.
func opinionOf(ans llm.Answer, ch change.Change) risk.Opinion {
	op := risk.Opinion{Model: ans.Model, Tokens: ans.Usage.PromptTokens + ans.Usage.CompletionTokens, Cached: ans.Cached}
	var got struct {
		Level    risk.Level `json:"level"`
		Concerns []struct {
			File     string     `json:"file"`
			Line     int        `json:"line"`
			Severity risk.Level `json:"severity"`
			Concern  string     `json:"concern"`
		} `json:"concerns"`
	}
	if err := json.Unmarshal([]byte(ans.Text), &got); err != nil {
		op.Skipped = "the model's answer was not valid"
		return op
	}
	op.Said = got.Level
	added := addedLines(ch)
	for _, c := range got.Concerns {
		// A concern names a line of this change; one that would link an
		// issue, a commit or another repository is not kept.
		if !added[c.File][c.Line] || c.Severity.Rank() == 0 && c.Severity != risk.Low || len(op.Concerns) == opinionConcerns ||
			cite.AnyRef(c.Concern) != "" {
			op.Dropped++
			continue
		}
		op.Concerns = append(op.Concerns, risk.Concern{Path: c.File, Line: c.Line, Severity: c.Severity, Summary: cite.Clip(c.Concern, opinionSummary)})
	}
	return op
}

func addedLines(ch change.Change) map[string]map[int]bool {
	out := make(map[string]map[int]bool, len(ch.Files))
	for _, f := range ch.Files {
		lines := map[int]bool{}
		for _, l := range change.AddedLines(f.Patch) {
			lines[l.Number] = true
		}
		out[f.Path] = lines
	}
	return out
}
