package render

import (
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/mdtest"
	"github.com/ferry-ci/ferry/internal/promotion"
)

func inShortView(t *testing.T, in *PromotionInShort) string {
	t.Helper()
	s := promotion.Summarize(promotion.Input{Env: production(), Running: sha(0), Changes: promotionChanges(), Now: now})
	v := NewPromotionView(s, production(), "https://github.com/acme/api", nil, now)
	v.InShort = in
	out, err := mustRenderer(t).Promotion(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPromotionInShortGolden: a model's summary heads the body; the
// table and what needs attention follow unchanged; a spent budget is one
// line.
func TestPromotionInShortGolden(t *testing.T) {
	out := inShortView(t, &PromotionInShort{Model: "fast-1", Sentences: []Cited{
		{Text: "Orders get a total, with a destructive migration.", PRs: []int{41}},
		{Text: "The API runs more replicas.", PRs: []int{42}},
	}})
	golden(t, "promotion-in-short.md", out)
	if plain := inShortView(t, nil); !strings.HasSuffix(out, plain[strings.Index(plain, "**Plan:**"):]) {
		t.Errorf("the rest of the body changed with a summary")
	}
	golden(t, "promotion-in-short-skipped.md", inShortView(t, &PromotionInShort{Skipped: "the daily token budget is spent"}))
}

// TestAttack_PromotionInShortMarkdown: a summary repeating hostile titles
// renders inert, and still visible.
func TestAttack_PromotionInShortMarkdown(t *testing.T) {
	in := &PromotionInShort{Model: mdtest.Hostile[3]}
	for _, h := range mdtest.Hostile[:3] {
		in.Sentences = append(in.Sentences, Cited{Text: h + "\n\n# " + mdtest.Hostile[7] + " " + mdtest.Hostile[6], PRs: []int{41}})
	}
	out := inShortView(t, in)
	golden(t, "promotion-in-short-hostile.md", out)
	withoutCompare := strings.Replace(out, "[everything going out](https://github.com/acme/api/compare/"+sha(0)+"..."+sha(3)+")", "", 1)
	for _, p := range mdtest.Problems(withoutCompare) {
		t.Errorf("%s", p)
	}
	for _, h := range []string{"evil.example/login", "org/all", "javascript"} {
		if !strings.Contains(out, h) {
			t.Errorf("the summary hides %q", h)
		}
	}
}
