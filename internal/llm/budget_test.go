package llm_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/llm"
	"github.com/ferry-ci/ferry/internal/llmtest"
)

// TestAttack_LLMConcurrentCallsWithinBudget: ten questions of one
// installation at once cannot each pass the budget check: calls in flight
// hold their share.
func TestAttack_LLMConcurrentCallsWithinBudget(t *testing.T) {
	w := newWorld(t, func(c *llm.Config) { c.DailyTokens = 1000 })
	w.srv.Respond(func(llmtest.Call) llmtest.Reply {
		return llmtest.Reply{Content: "ok", PromptTokens: 550, CompletionTokens: 50, Delay: 200 * time.Millisecond}
	})
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := ask()
			r.Task = fmt.Sprintf("question %d", i)
			if _, err := w.client.Ask(context.Background(), r); err == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	used, _ := w.ledger.TokensUsed(context.Background(), 7, now.Truncate(24*time.Hour))
	t.Logf("%d of 10 calls answered; %d tokens used of a 1000-token daily budget", ok.Load(), used)
	if used > 1000+600 {
		t.Errorf("budget overspent: %d tokens", used)
	}
}

// TestLLMCancelledJobStillRecordsUsage: tokens spent before the job was
// cancelled are recorded: they were paid for.
func TestLLMCancelledJobStillRecordsUsage(t *testing.T) {
	db := dbtest.Open(t, dbtest.SQLiteURL(t))
	srv := llmtest.New(t)
	srv.Script(llmtest.Reply{Content: "not json", PromptTokens: 900, CompletionTokens: 100},
		llmtest.Reply{Content: `{"files":[]}`, Delay: 5 * time.Second})
	c, err := llm.New(llm.Config{URL: srv.URL(), Model: "m", DailyTokens: 1000, Clock: func() time.Time { return now }}, db)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = c.Ask(ctx, structured())
	t.Logf("ask: %v", err)
	used, _ := db.TokensUsed(context.Background(), 7, now.Truncate(24*time.Hour))
	t.Logf("calls answered by the endpoint: %d; tokens recorded: %d", len(srv.Calls()), used)
	if used < 1000 {
		t.Errorf("1000 tokens were spent, %d recorded: the next call passes a spent budget", used)
	}
}
