package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/llm"
	"github.com/ferry-ci/ferry/internal/store"
)

// TestLLMUsage: tokens count toward an installation's day only when spent
// (not from the cache), only its own and only since the time asked; the
// audit summary groups calls by feature and model.
func TestLLMUsage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		big := int64(1) << 40 // installation ids are 64-bit
		for _, u := range []llm.Usage{
			{Installation: 7, Feature: "testgen", Model: "strong", PromptTokens: 100, CompletionTokens: 20, At: day.Add(time.Hour)},
			{Installation: 7, Feature: "testgen", Model: "strong", Cached: true, At: day.Add(2 * time.Hour)},
			{Installation: 7, Feature: "highlights", Model: "fast", PromptTokens: 10, CompletionTokens: 5, At: day.Add(3 * time.Hour)},
			{Installation: 7, Feature: "highlights", Model: "fast", PromptTokens: 1000, CompletionTokens: 1000, At: day.Add(-time.Hour)},
			{Installation: big, Feature: "testgen", Model: "strong", PromptTokens: 50, CompletionTokens: 50, At: day.Add(time.Hour)},
		} {
			if err := db.RecordUsage(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			installation int64
			want         int64
		}{{7, 135}, {big, 100}, {8, 0}} {
			if got, err := db.TokensUsed(ctx, tc.installation, day); err != nil || got != tc.want {
				t.Errorf("installation %d: %d tokens, %v; want %d", tc.installation, got, err, tc.want)
			}
		}
		got, err := db.LLMUsage(ctx, 7, day)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.LLMSpend{
			{Feature: "highlights", Model: "fast", Calls: 1, PromptTokens: 10, CompletionTokens: 5},
			{Feature: "testgen", Model: "strong", Calls: 2, Cached: 1, PromptTokens: 100, CompletionTokens: 20},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("usage of installation 7 (-want +got):\n%s", d)
		}
		all, err := db.LLMUsage(ctx, 0, day)
		if err != nil || len(all) != 2 || all[1].Calls != 3 || all[1].PromptTokens != 150 {
			t.Errorf("usage of all installations: %+v %v", all, err)
		}
	})
}

// TestLLMCache: an answer is found under its key, a later one replaces it,
// an unknown key is a miss, not an error.
func TestLLMCache(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		if _, ok, err := db.CachedAnswer(ctx, "k1"); ok || err != nil {
			t.Fatalf("empty cache: %t %v", ok, err)
		}
		for _, answer := range []string{`{"a":1}`, `{"a":2}`} {
			if err := db.CacheAnswer(ctx, "k1", "strong", answer, at); err != nil {
				t.Fatal(err)
			}
		}
		if got, ok, err := db.CachedAnswer(ctx, "k1"); !ok || err != nil || got != `{"a":2}` {
			t.Fatalf("cached: %q %t %v", got, ok, err)
		}
		if _, ok, err := db.CachedAnswer(ctx, "k2"); ok || err != nil {
			t.Fatalf("other key: %t %v", ok, err)
		}
	})
}

var _ llm.Ledger = (*store.DB)(nil)
