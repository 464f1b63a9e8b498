package llm_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/llm"
	"github.com/ferry-ci/ferry/internal/llmtest"
	"github.com/ferry-ci/ferry/internal/store"
)

// TestAsk_Store: with the real store (SQLite) as the ledger, a repeated
// question comes from the cache, spends nothing, and the budget counts
// only what was spent.
func TestAsk_Store(t *testing.T) {
	db := dbtest.Open(t, dbtest.SQLiteURL(t))
	srv := llmtest.New(t)
	srv.Respond(func(llmtest.Call) llmtest.Reply {
		return llmtest.Reply{Content: `{"files":["add.go"]}`, PromptTokens: 300, CompletionTokens: 20}
	})
	c, err := llm.New(llm.Config{URL: srv.URL(), Model: "strong-model", DailyTokens: 320, Clock: func() time.Time { return now }}, db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i, wantCached := range []bool{false, true} {
		a, err := c.Ask(ctx, structured())
		if err != nil || a.Cached != wantCached || a.Text != `{"files":["add.go"]}` {
			t.Fatalf("ask %d: %+v %v", i, a, err)
		}
	}
	other := structured()
	other.Task = "Another question."
	if _, err := c.Ask(ctx, other); !errors.Is(err, llm.ErrBudget) {
		t.Fatalf("error %v, want the budget spent (320 tokens)", err)
	}
	if n := len(srv.Calls()); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
	spend, err := db.LLMUsage(ctx, 7, now.Truncate(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.LLMSpend{{Feature: "testgen", Model: "strong-model", Calls: 2, Cached: 1, PromptTokens: 300, CompletionTokens: 20}}
	if d := cmp.Diff(want, spend); d != "" {
		t.Errorf("spend (-want +got):\n%s", d)
	}
}
