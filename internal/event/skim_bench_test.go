package event

import (
	"os"
	"testing"

	"github.com/tidwall/gjson"
)

// BenchmarkSummarize: the edge's read of a 28 KB pull_request payload, and
// its two passes apart.
func BenchmarkSummarize(b *testing.B) {
	payload, err := os.ReadFile("../fixture/testdata/webhooks/pull_request/opened.payload.json")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		fn   func()
	}{
		{"Summarize", func() { _, _ = Summarize(payload) }},
		{"valid", func() { gjson.ValidBytes(payload) }},
		{"skim", func() { skimRouting(payload) }},
		{"gjson-paths", func() { _, _ = summarizeGjson(payload) }}, // before the skim
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				c.fn()
			}
		})
	}
}
