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
	eachFile(b, func(f *File) error { Analyze(f, Options{}); return nil })
}

// BenchmarkFix: the proven rewrite of one Dockerfile of the corpus (on
// average): every fix re-parsed, converted to LLB for every target and
// re-analysed.
func BenchmarkFix(b *testing.B) {
	eachFile(b, func(f *File) error { _, err := Fix(context.Background(), f, Options{}); return err })
}

// eachFile parses the corpus's files in turn and does work on each.
func eachFile(b *testing.B, work func(*File) error) {
	files := corpus(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f, err := Parse(files[i%len(files)].Src)
		if err == nil {
			err = work(f)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
