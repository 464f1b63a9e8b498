package risk

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/policy"
)

// BenchmarkAssess: a pull request of 100 and of 3,000 files (GitHub's cap),
// each with a 40-line patch and a history of 5,000 paths.
func BenchmarkAssess(b *testing.B) {
	patch := "@@ -1,20 +1,40 @@\n" + strings.Repeat(" ctx\n+added line with token := session.Get()\n", 20)
	h := History{Incidents: map[string][]time.Time{}, Changes: map[string]int{}}
	for i := range 5000 {
		p := fmt.Sprintf("services/s%02d/handler_%04d.go", i%40, i)
		h.Changes[p] = i % 30
		if i%97 == 0 {
			h.Incidents[p] = []time.Time{now.Add(-time.Duration(i) * time.Hour)}
		}
	}
	for _, n := range []int{100, 3000} {
		var files []change.File
		for i := range n {
			files = append(files, change.File{Path: fmt.Sprintf("services/s%02d/handler_%04d.go", i%40, i),
				Status: change.Modified, Additions: 20, Deletions: 2, Patch: patch})
		}
		in := Input{Change: change.Change{Files: files}, History: h, Policy: policy.Default(), Now: now}
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Assess(in)
			}
		})
	}
}
