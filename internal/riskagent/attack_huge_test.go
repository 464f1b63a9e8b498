package riskagent_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/assessment"
	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/riskagent"
	"github.com/ferry-ci/ferry/internal/store"
)

// The attack: a fork's pull request of 3,200 files of 64 KiB (200 MiB of
// text) and five of 2 MiB, more than GitHub's API lists; the last file by
// name, a small migration, drops a table.
const (
	attackFiles    = 3200
	attackFileSize = 64 << 10
	attackHuge     = 5
	attackHugeSize = 2 << 20
)

// Ceilings, generous: within the default limits (32 MiB of content read)
// the job's live heap grows by about four times that (the patches, and
// the risk rules' copies of their lines) and Go's collector lets the heap
// reach twice what is live — some 300 MiB; reading all of it, as ferry
// did before the limits, kept every patch of the 210 MiB several times
// over, gigabytes.
const (
	attackMaxRSSGrowth = 768 << 20
	attackMaxTime      = 2 * time.Minute
	attackMaxCancel    = 10 * time.Second
)

// envAttackJob, when set, makes TestAttack_HugeForkPR the job process
// that the test starts (its JSON spec): memory is measured in a process
// of its own, not in one holding the simulator's copy of GitHub's API
// description, whose hundreds of MB would hide the job's.
const envAttackJob = "FERRY_TEST_ATTACK_JOB"

// TestAttack_HugeForkPR: through the real pieces — the simulator serving
// the repository over git's HTTP protocol, the GitHub adapter, SQLite —
// ferry reads a huge fork pull request shallowly and within its limits:
// memory and time stay bounded, the small migration is still read (the
// smallest files first), the assessment is marked partial and never takes
// the fast path, and a cancelled job stops the read promptly.
func TestAttack_HugeForkPR(t *testing.T) {
	if spec := os.Getenv(envAttackJob); spec != "" {
		attackJob(t, spec)
		return
	}
	bare, base, head, listed := attackRepo(t)
	dbURL := dbtest.SQLiteURL(t)
	db := dbtest.Open(t, dbURL)
	sim := githubsim.New(t, githubsim.Config{})
	sim.AddInstallation(inst, owner)
	sim.AddRepo(inst, repo)
	sim.ServeGit(repo, bare)
	n := sim.AddPullRequest(repo, githubsim.PullRequest{Title: "Vendor everything", User: "mallory", HeadRepo: "mallory/api",
		Head: "main", HeadSHA: head, BaseSHA: base, Files: listed})
	job := attackSpec{SimURL: sim.URL(), AppID: sim.AppID(), PrivateKey: sim.PrivateKeyPEM(), BotLogin: sim.BotLogin(),
		DB: dbURL, Cache: t.TempDir(), Subject: riskagent.Subject{ID: "d-1", InstallationID: inst, RepositoryID: 9,
			Owner: owner, Repo: name, Number: n, BaseRef: "main", BaseSHA: base, HeadSHA: head, EventAt: now, CloneURL: sim.CloneURL(repo)}}
	res := runAttackJob(t, job)
	t.Logf("huge fork pull request (%d files, %d MiB of text): %s; heap peak +%d MiB, RSS %d → peak %d MiB",
		attackFiles+attackHuge+1, (attackFiles*attackFileSize+attackHuge*attackHugeSize)>>20,
		res.Took.Round(time.Millisecond), res.HeapGrowth>>20, res.RSSStart>>20, (res.RSSStart+res.RSSGrowth)>>20)
	if res.RSSGrowth > attackMaxRSSGrowth || res.HeapGrowth > attackMaxRSSGrowth || res.Took > attackMaxTime {
		t.Errorf("heap +%d MiB, RSS +%d MiB in %s; ceilings %d MiB, %s", res.HeapGrowth>>20, res.RSSGrowth>>20, res.Took,
			attackMaxRSSGrowth>>20, attackMaxTime)
	}
	row, err := db.GetAssessment(ctx, "d-1")
	if err != nil {
		t.Fatal(err)
	}
	out := string(row.Result)
	if !strings.Contains(out, `"truncated":true`) || !strings.Contains(out, `"fast_path":false`) {
		t.Errorf("not marked partial, or on the fast path: %.400s", out)
	}
	if want := fmt.Sprintf(`"files":%d`, attackFiles+attackHuge+1); !strings.Contains(out, want) {
		t.Errorf("every file is listed even past the byte limit: want %s in %.200s", want, out)
	}
	if !strings.Contains(strings.Join(row.Rules, ","), "destructive-sql") {
		t.Errorf("the migration was not read: rules %v", row.Rules)
	}
	comments := sim.Comments(repo, n)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "This assessment is partial") || strings.Contains(comments[0].Body, "takes the fast path") {
		t.Errorf("the comment does not say the assessment is partial: %+v", comments)
	}

	t.Run("cancelled", func(t *testing.T) {
		app, err := github.New(github.Config{AppID: sim.AppID(), PrivateKey: sim.PrivateKeyPEM(), BaseURL: sim.URL(),
			BotLogin: sim.BotLogin(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		cache := &git.Cache{Dir: t.TempDir()} // cold: the fetch has everything to do
		attackCancel(t, newAgent(t, app, db, cache), cache, job.Subject, db)
	})
}

// attackSpec is what the job process needs to reach the test's pieces.
type attackSpec struct {
	SimURL, BotLogin, DB, Cache string
	AppID                       int64
	PrivateKey                  []byte
	Subject                     riskagent.Subject
}

// attackResult is what the job process measured.
type attackResult struct {
	Took                            time.Duration
	HeapGrowth, RSSStart, RSSGrowth uint64
	Err                             string
}

const attackResultPrefix = "ferry-attack-result: "

// runAttackJob runs the job in a process of its own (this test binary,
// this test, envAttackJob set) and returns what it measured.
func runAttackJob(t *testing.T, spec attackSpec) attackResult {
	t.Helper()
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAttack_HugeForkPR$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), envAttackJob+"="+string(data))
	out, err := cmd.CombinedOutput()
	var res attackResult
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, attackResultPrefix); ok {
			if jerr := json.Unmarshal([]byte(v), &res); jerr != nil {
				t.Fatal(jerr)
			}
		}
	}
	if err != nil || res.Took == 0 || res.Err != "" {
		t.Fatalf("the job process: %v, %s\n%s", err, res.Err, out)
	}
	return res
}

// attackJob is the job process: one PullRequest job, as a worker runs it,
// measured.
func attackJob(t *testing.T, specJSON string) {
	var spec attackSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		t.Fatal(err)
	}
	db := dbtest.Open(t, spec.DB)
	app, err := github.New(github.Config{AppID: spec.AppID, PrivateKey: spec.PrivateKey, BaseURL: spec.SimURL,
		BotLogin: spec.BotLogin, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	o := newAgent(t, app, db, &git.Cache{Dir: spec.Cache})
	pol := basePolicy(t, app, spec.Subject)
	m := startMeasure()
	err = o.PullRequest(ctx, spec.Subject, pol)
	var res attackResult
	res.Took, res.HeapGrowth, res.RSSGrowth = m.stop()
	res.RSSStart = m.rss0
	if err != nil {
		res.Err = err.Error()
	}
	data, _ := json.Marshal(res)
	fmt.Println(attackResultPrefix + string(data))
}

// attackCancel cancels the job once the fetch is under way: it returns
// promptly with the cancellation, and nothing is stored.
func attackCancel(t *testing.T, o *riskagent.Agent, cache *git.Cache, s riskagent.Subject, db *store.DB) {
	s.ID, s.EventAt = "d-2", now.Add(time.Minute)
	jobCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	pol := policy.Loaded{State: policy.Absent, Policy: policy.Default()}
	go func() { done <- o.PullRequest(jobCtx, s, pol) }()
	deadline := time.Now().Add(attackMaxTime)
	for {
		if _, err := os.Stat(filepath.Join(cache.Dir, "9", "objects")); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancelled := time.Now()
	cancel()
	select {
	case err := <-done:
		t.Logf("cancelled: the job returned %s after the cancellation", time.Since(cancelled).Round(time.Millisecond))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(attackMaxCancel):
		t.Fatalf("the job ran on %s after its cancellation", attackMaxCancel)
	}
	if _, err := db.GetAssessment(ctx, "d-2"); !errors.Is(err, assessment.ErrNotFound) {
		t.Errorf("a cancelled job stored an assessment: %v", err)
	}
}

// attackRepo writes the pull request with git fast-import (no work tree):
// main with a README, the fork's head adding the files, refs/pull/1/head
// and GitHub's test merge refs/pull/1/merge. The files API lists the
// first 3,000 by name, without patches (GitHub omits large ones).
func attackRepo(t *testing.T) (bare, base, head string, listed []githubsim.File) {
	t.Helper()
	bare = filepath.Join(t.TempDir(), "api.git")
	gitCmd(t, filepath.Dir(bare), "init", "-q", "--bare", "-b", "main", bare)
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = bare
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(stdin, 1<<20)
	fmt.Fprintf(w, "commit refs/heads/main\nmark :1\ncommitter t <t@example.com> 1700000000 +0000\ndata 4\ninit\n")
	inline(w, "README.md", "hi\n")
	fmt.Fprintf(w, "commit refs/heads/fork\nmark :2\ncommitter m <m@example.com> 1700000100 +0000\ndata 7\nvendor\nfrom :1\n")
	for i := range attackFiles {
		inline(w, fmt.Sprintf("gen/f%04d.txt", i), text(i, attackFileSize))
	}
	for i := range attackHuge {
		inline(w, fmt.Sprintf("gen/huge%d.txt", i), text(attackFiles+i, attackHugeSize))
	}
	inline(w, "zz/migrations/0042_drop.sql", "DROP TABLE accounts;\n")
	if err := errors.Join(w.Flush(), stdin.Close(), cmd.Wait()); err != nil {
		t.Fatal(err)
	}
	base, head = gitCmd(t, bare, "rev-parse", "main"), gitCmd(t, bare, "rev-parse", "fork")
	gitCmd(t, bare, "update-ref", "refs/pull/1/head", head)
	gitCmd(t, bare, "update-ref", "refs/pull/1/merge", gitCmd(t, bare, "commit-tree", head+"^{tree}", "-p", base, "-p", head, "-m", "Merge"))
	gitCmd(t, bare, "update-ref", "-d", "refs/heads/fork") // it lives in the fork; the base repository has refs/pull/1/*
	for i := range 3000 {
		listed = append(listed, githubsim.File{Filename: fmt.Sprintf("gen/f%04d.txt", i), Status: "added", Additions: attackFileSize / 64})
	}
	return bare, base, head, listed
}

func inline(w *bufio.Writer, path, content string) {
	fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n%s\n", path, len(content), content)
}

// text is about size bytes of lines, different in every file.
func text(file, size int) string {
	var b strings.Builder
	b.Grow(size)
	for j := 0; b.Len() < size-64; j++ {
		fmt.Fprintf(&b, "f%05d l%07d the quick brown fox jumps over the lazy dog, again\n", file, j)
	}
	return b.String()
}

// measure samples the heap while a job runs (its peak above where it
// started) and reads the process's peak RSS (VmHWM, reset at the start).
type measure struct {
	start time.Time
	base  uint64
	rss0  uint64
	quit  chan struct{}
	wg    sync.WaitGroup
	peak  uint64
}

func startMeasure() *measure {
	debug.FreeOSMemory() // so the RSS peak is the job's, not pages left before it
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := &measure{start: time.Now(), base: ms.HeapAlloc, peak: ms.HeapAlloc, quit: make(chan struct{}), rss0: procStatus("VmRSS")}
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // VmHWM := VmRSS
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			m.peak = max(m.peak, ms.HeapAlloc)
			select {
			case <-m.quit:
				return
			case <-tick.C:
			}
		}
	}()
	return m
}

// stop returns the time taken and the heap's and the RSS's peak growth.
func (m *measure) stop() (took time.Duration, heap, rss uint64) {
	took = time.Since(m.start)
	close(m.quit)
	m.wg.Wait()
	if hwm := procStatus("VmHWM"); hwm > m.rss0 {
		rss = hwm - m.rss0
	}
	return took, m.peak - m.base, rss
}

// procStatus reads a size from /proc/self/status, in bytes (0 unknown).
func procStatus(field string) uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
