package render

import (
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/mdtest"
	"github.com/ferry-ci/ferry/internal/release"
)

// TestReleaseHighlightsGolden: a model's highlights head the release pull
// request's body, each with its pull requests and who wrote them; the
// changelog section never shows them; a spent budget is one line.
func TestReleaseHighlightsGolden(t *testing.T) {
	r := mustRenderer(t)
	n, err := release.Build(labelled(t))
	if err != nil {
		t.Fatal(err)
	}
	v := NewReleaseView(n)
	plain, err := r.ReleaseChangelog(v)
	if err != nil {
		t.Fatal(err)
	}
	v.Highlights = &ReleaseHighlights{Model: "fast-1", Items: []Cited{
		{Text: "Sign in with passkeys instead of passwords.", PRs: []int{201}},
		{Text: "The config loader is new: old keys need renaming, and an empty cart no longer crashes.", PRs: []int{203, 202}},
	}}
	out, err := r.ReleaseNotes(v)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "release-highlights.md", out)
	if section, err := r.ReleaseChangelog(v); err != nil || section != plain {
		t.Errorf("the changelog section changed with highlights (%v):\n%s", err, section)
	}
	v.Highlights = &ReleaseHighlights{Skipped: "the daily token budget is spent"}
	out, err = r.ReleaseNotes(v)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "release-highlights-skipped.md", out)
}

// TestAttack_ReleaseHighlightsMarkdown: a model that read hostile pull
// request titles may repeat them, and its model name is the server's
// word: both render inert, and still visible.
func TestAttack_ReleaseHighlightsMarkdown(t *testing.T) {
	r := mustRenderer(t)
	n, err := release.Build(labelled(t))
	if err != nil {
		t.Fatal(err)
	}
	v := NewReleaseView(n)
	v.Highlights = &ReleaseHighlights{Model: mdtest.Hostile[2]}
	for i, h := range mdtest.Hostile {
		v.Highlights.Items = append(v.Highlights.Items, Cited{Text: h + "\n### " + h + " <script>x</script>", PRs: []int{201 + i%3}})
	}
	out, err := r.ReleaseNotes(v)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "release-highlights-hostile.md", out)
	for _, p := range mdtest.Problems(out) {
		t.Errorf("%s", p)
	}
	for _, h := range []string{"evil.example/login", "org/all", "alert(1)", "script"} {
		if !strings.Contains(out, h) {
			t.Errorf("highlights hide %q", h)
		}
	}
}
