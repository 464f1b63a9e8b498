package testsel_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// historyCommits is how many of this repository's newest first-parent
// commits the selection is checked on (FERRY_TESTSEL_COMMITS overrides).
const historyCommits = 200

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

// TestSelectGo_OwnHistory: for each of this repository's last 200
// first-parent commits, ferry's selection (read from git objects, nothing
// run) against the go command's ground truth (`go list -test -json` on a
// checkout of that commit): no package whose tests could observe the
// change is missed. The mean selected fraction is logged.
func TestSelectGo_OwnHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("a go list per commit: not in -short")
	}
	root := gitOut(t, ".", "rev-parse", "--show-toplevel")
	if gitOut(t, root, "rev-parse", "--is-shallow-repository") == "true" {
		t.Skip("this clone is shallow: its history cannot be replayed")
	}
	n := historyCommits
	if v, err := strconv.Atoi(os.Getenv("FERRY_TESTSEL_COMMITS")); err == nil && v > 0 {
		n = v
	}
	commits := strings.Fields(gitOut(t, root, "rev-list", "--first-parent", "-n", strconv.Itoa(n), "HEAD"))
	type result struct {
		sha      string
		missed   []string
		fraction float64
		all      bool
	}
	results := make([]result, len(commits))
	var wg sync.WaitGroup
	const workers = 2
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := filepath.Join(t.TempDir(), "clone")
			if out, err := exec.Command("git", "clone", "-q", "--no-checkout", root, dir).CombinedOutput(); err != nil {
				t.Errorf("clone: %v: %s", err, out)
				return
			}
			for i := w; i < len(commits); i += workers {
				sha := commits[i]
				if len(strings.Fields(gitOut(t, dir, "rev-list", "--parents", "-n", "1", sha))) < 2 {
					continue // the root commit: nothing to compare with
				}
				gitOut(t, dir, "checkout", "-q", "--detach", "--force", sha)
				missed, fraction, sel := compare(t, dir, sha+"~1", sha)
				results[i] = result{sha: sha, missed: missed, fraction: fraction, all: sel.All}
			}
		}()
	}
	wg.Wait()
	var sum float64
	var counted, all int
	for _, r := range results {
		if r.sha == "" {
			continue
		}
		counted++
		sum += r.fraction
		if r.all {
			all++
		}
		if len(r.missed) > 0 {
			t.Errorf("%s: ferry missed %v", r.sha[:8], r.missed)
		}
	}
	if counted == 0 {
		t.Fatal("no commit compared")
	}
	t.Logf("%d commits: mean selected fraction %.3f; %d selected everything", counted, sum/float64(counted), all)
}
