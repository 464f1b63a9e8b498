package dockerfile

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func corpus(b *testing.B) []*File {
	b.Helper()
	names, _ := filepath.Glob("testdata/corpus/*.Dockerfile")
	var out []*File
	for _, n := range names {
		src, err := os.ReadFile(n)
		if err != nil {
			b.Fatal(err)
		}
		if f, err := Parse(src); err == nil {
			out = append(out, f)
		}
	}
	return out
}

// BenchmarkAnalyze: findings for one Dockerfile of the corpus (on
// average), parse included.
func BenchmarkAnalyze(b *testing.B) {
	files := corpus(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f, err := Parse(files[i%len(files)].Src)
		if err != nil {
			b.Fatal(err)
		}
		Analyze(f, Options{})
	}
}

// BenchmarkFix: the proven rewrite of one Dockerfile of the corpus (on
// average): every fix re-parsed, converted to LLB for every target and
// re-analysed.
func BenchmarkFix(b *testing.B) {
	files := corpus(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f, err := Parse(files[i%len(files)].Src)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Fix(context.Background(), f, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
