package git

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/policy"
)

// BenchmarkReadPullRequest reads a pull request of 3,001 files through git
// (git upload-pack serving a real bare repository), cold (a new cache
// each time):
//
//   - before: as ferry did before limits — the whole history of the base
//     branch and the head fetched, every patch built (go-git's Patch);
//   - after: refs/pull/N/merge at depth 2, read within the default limits;
//   - after-warm: the same again into the cache it left (what a push to
//     the pull request, or /ferry risk, costs).
//
// Files of 1 KiB are all within the limits (the same change is read);
// files of 64 KiB are 188 MiB of text, past the 32 MiB read. peak-MiB is
// the heap's peak growth, sampled. Under -short (make test runs every
// benchmark once) the 64 KiB pull request has 601 files, 38 MiB: still
// past the 32 MiB read, at a fifth of the time and memory.
//
//	go test -run '^$' -bench ReadPullRequest -benchtime 1x ./internal/git
func BenchmarkReadPullRequest(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		bare, head := benchRepo(b, benchFiles(size), size)
		d := policy.DefaultLimits()
		lim := Limits{MaxFiles: d.MaxFiles, MaxFileBytes: d.MaxFileBytes, MaxPatchBytes: d.MaxPatchBytes}
		pr := PullRequest{URL: bare, Number: 1, BaseRef: "main", HeadSHA: head}
		b.Run(fmt.Sprintf("%dKiB/before", size>>10), func(b *testing.B) {
			measured(b, func() int { return readUnbounded(b, bare, head) })
		})
		b.Run(fmt.Sprintf("%dKiB/after", size>>10), func(b *testing.B) {
			measured(b, func() int {
				ch, err := (&Cache{Dir: b.TempDir()}).PullRequestChange(context.Background(), "1", pr, lim)
				if err != nil {
					b.Fatal(err)
				}
				return len(ch.Files)
			})
		})
		b.Run(fmt.Sprintf("%dKiB/after-warm", size>>10), func(b *testing.B) {
			c := &Cache{Dir: b.TempDir()}
			if _, err := c.PullRequestChange(context.Background(), "1", pr, lim); err != nil {
				b.Fatal(err)
			}
			measured(b, func() int {
				ch, err := c.PullRequestChange(context.Background(), "1", pr, lim)
				if err != nil {
					b.Fatal(err)
				}
				return len(ch.Files)
			})
		})
	}
}

// benchFiles is how many files of size bytes the pull request adds: 3,000,
// or under -short 600 of the large ones — 37.5 MiB, enough to pass the
// default 32 MiB read, which is the path those files are there to take.
func benchFiles(size int) int {
	if testing.Short() && size > 1<<10 {
		return 600
	}
	return 3000
}

// readUnbounded is the read before limits: a full fetch, the merge base
// found in the history, and go-git's Patch of everything.
func readUnbounded(b *testing.B, bare, head string) int {
	g, err := Fetch(context.Background(), b.TempDir(), FetchOptions{URL: bare,
		RefSpecs: []string{"+refs/heads/main:refs/ferry/base", "+refs/pull/1/head:refs/ferry/pr/1"}})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	base, err := g.Resolve("refs/ferry/base")
	if err != nil {
		b.Fatal(err)
	}
	h, err := g.Resolve(head)
	if err != nil {
		b.Fatal(err)
	}
	if mb, err := h.MergeBase(base); err == nil && len(mb) > 0 {
		base = mb[0]
	}
	ch, err := g.Change(base, h)
	if err != nil {
		b.Fatal(err)
	}
	return len(ch.Files)
}

// measured runs read b.N times and reports the heap's peak growth.
func measured(b *testing.B, read func() int) {
	b.ReportAllocs()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	quit, done := make(chan struct{}), sync.WaitGroup{}
	done.Add(1)
	go func() {
		defer done.Done()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-quit:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	b.ResetTimer()
	files := 0
	for range b.N {
		files = read()
	}
	b.StopTimer()
	close(quit)
	done.Wait()
	b.ReportMetric(float64(peak-base)/(1<<20), "peak-MiB")
	b.ReportMetric(float64(files), "files")
}

// benchRepo writes, with git fast-import, a bare repository whose pull
// request 1 adds n files of size bytes and a small migration, with
// refs/pull/1/head and the test merge refs/pull/1/merge.
func benchRepo(b *testing.B, n, size int) (bare, head string) {
	b.Helper()
	bare = filepath.Join(b.TempDir(), "api.git")
	gitCmd(b, filepath.Dir(bare), "init", "-q", "--bare", "-b", "main", bare)
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = bare
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(stdin, 1<<20)
	inline := func(path, content string) {
		fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n%s\n", path, len(content), content)
	}
	fmt.Fprintf(w, "commit refs/heads/main\nmark :1\ncommitter t <t@example.com> 1700000000 +0000\ndata 4\ninit\n")
	inline("README.md", "hi\n")
	fmt.Fprintf(w, "commit refs/pull/1/head\ncommitter t <t@example.com> 1700000100 +0000\ndata 4\nbig\nfrom :1\n")
	var line strings.Builder
	for i := range n {
		line.Reset()
		for j := 0; line.Len() < size-64; j++ {
			fmt.Fprintf(&line, "f%05d l%07d the quick brown fox jumps over the lazy dog, again\n", i, j)
		}
		inline(fmt.Sprintf("gen/f%04d.txt", i), line.String())
	}
	inline("zz/migrations/0042_drop.sql", "DROP TABLE accounts;\n")
	if err := errors.Join(w.Flush(), stdin.Close(), cmd.Wait()); err != nil {
		b.Fatal(err)
	}
	base, head := gitCmd(b, bare, "rev-parse", "main"), gitCmd(b, bare, "rev-parse", "refs/pull/1/head")
	gitCmd(b, bare, "update-ref", "refs/pull/1/merge", gitCmd(b, bare, "commit-tree", head+"^{tree}", "-p", base, "-p", head, "-m", "Merge"))
	return bare, head
}
