package llm_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ferry-ci/ferry/internal/llm"
	"github.com/ferry-ci/ferry/internal/llmtest"
)

// BenchmarkAsk: what ferry adds to a model call (budget reservation,
// fencing, schema check, ledger) against a local endpoint that answers at
// once, and a cached answer, which costs no call at all.
func BenchmarkAsk(b *testing.B) {
	w := newWorld(b, func(c *llm.Config) { c.DailyTokens = 1 << 40 })
	w.srv.Respond(func(llmtest.Call) llmtest.Reply {
		return llmtest.Reply{Content: `{"files":["add.go"]}`, PromptTokens: 100, CompletionTokens: 10}
	})
	ctx := context.Background()
	i := 0 // across -count's runs of the sub-benchmark, which share the world
	b.Run("endpoint", func(b *testing.B) {
		for b.Loop() {
			req := ask()
			req.Schema = schema
			req.Task = fmt.Sprintf("Name the files to test (%d).", i) // a new prompt: no cache hit
			i++
			if _, err := w.client.Ask(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		req := ask()
		req.Schema = schema
		if _, err := w.client.Ask(ctx, req); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			a, err := w.client.Ask(ctx, req)
			if err != nil || !a.Cached {
				b.Fatalf("%+v, %v", a, err)
			}
		}
	})
}
