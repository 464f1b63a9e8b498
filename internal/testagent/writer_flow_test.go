package testagent

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/gentest"
	"github.com/ferry-ci/ferry/internal/github"
)

var (
	green = []forge.CIRun{{Name: "test", Status: "completed", Conclusion: "success", Output: "ok  \texample.com/m/calc\t0.01s"}}
	clamp = fixed{candidate("TestClamp", "calc/clamp_gen_test.go", "Clamp")}
)

// TestAttack_GeneratedTestsDeletedFork: a pull request whose head
// repository GitHub no longer names (a deleted fork: head.repo null) or
// that is unknown is a fork's: nothing is pushed into the base repository.
func TestAttack_GeneratedTestsDeletedFork(t *testing.T) {
	ctx := context.Background()
	for _, head := range []string{"", github.DeletedFork} {
		w, gh, _, _ := newWriter(t, clamp, nil)
		p := pr
		p.HeadRepo = head
		if res, err := w.Write(ctx, repo, p, "max"); err != nil || !strings.Contains(res.Note, "fork") || len(gh.pushes) != 0 {
			t.Fatalf("head repo %q: %+v %v", head, res, err)
		}
	}
}

// TestWriterSourceMovedOn: the source pull request's head moves while CI
// runs: no round is pushed and no pull request opened for the old head;
// the run ends saying why; a synchronize marks a run stale at once.
func TestWriterSourceMovedOn(t *testing.T) {
	ctx := context.Background()
	for _, ci := range [][]forge.CIRun{green, {{Name: "test", Status: "completed", Conclusion: "failure", Output: "--- FAIL: TestClamp"}}} {
		w, gh, store, _ := newWriter(t, fixed{candidate("TestClamp", "calc/clamp_gen_test.go", "Clamp"),
			candidate("TestAdd", "calc/add_gen_test.go", "T.Add")}, nil)
		if _, err := w.Write(ctx, repo, pr, "max"); err != nil {
			t.Fatal(err)
		}
		gh.source.HeadSHA, gh.runs = "h2", ci
		if err := w.CheckSuite(ctx, repo, "tip1"); err != nil {
			t.Fatal(err)
		}
		if rec := store[3]; rec.State != gentest.GaveUp || rec.Note != gentest.MovedOn || len(gh.opened) != 0 || len(gh.pushes) != 1 ||
			!strings.Contains(gh.comments[3], "moved on") {
			t.Fatalf("%+v opened %v pushes %d", rec, gh.opened, len(gh.pushes))
		}
	}
	w, gh, store, _ := newWriter(t, clamp, nil)
	if _, err := w.Write(ctx, repo, pr, "max"); err != nil {
		t.Fatal(err)
	}
	moved := pr
	moved.HeadSHA = "h2"
	if err := w.SourceMoved(ctx, repo, moved); err != nil || store[3].State != gentest.Stale {
		t.Fatalf("%+v %v", store[3], err)
	}
	gh.runs = green
	if err := w.CheckSuite(ctx, repo, "tip1"); err != nil || len(gh.opened) != 0 {
		t.Fatalf("opened %v %v", gh.opened, err)
	}
}

// TestWriterNeedsEvidence: a CLA bot's success is not CI running the
// tests: ferry waits, and gives up once CI shows nothing for WaitCI.
func TestWriterNeedsEvidence(t *testing.T) {
	ctx := context.Background()
	w, gh, store, _ := newWriter(t, clamp, nil)
	if _, err := w.Write(ctx, repo, pr, "max"); err != nil {
		t.Fatal(err)
	}
	gh.runs = []forge.CIRun{{Name: "cla", Status: "completed", Conclusion: "success", Output: "CLA signed"}}
	if err := w.CheckSuite(ctx, repo, "tip1"); err != nil || store[3].State != gentest.WaitingCI || len(gh.opened) != 0 {
		t.Fatalf("%+v %v", store[3], err)
	}
	w.cfg.Now = func() time.Time { return time.Unix(0, 0).Add(gentest.WaitCI + time.Minute) }
	if err := w.CheckSuite(ctx, repo, "tip1"); err != nil || store[3].State != gentest.GaveUp || !strings.Contains(gh.comments[3], "no verdict") {
		t.Fatalf("%+v %v %q", store[3], err, gh.comments[3])
	}
	// Branch protection's required checks, all green, are evidence.
	w, gh, store, _ = newWriter(t, clamp, nil)
	protected := repo
	protected.DefaultBranch = "main"
	if _, err := w.Write(ctx, protected, pr, "max"); err != nil {
		t.Fatal(err)
	}
	gh.required, gh.runs = []string{"build"}, []forge.CIRun{{Name: "build", Status: "completed", Conclusion: "success"}}
	if err := w.CheckSuite(ctx, protected, "tip1"); err != nil || store[3].State != gentest.Opened {
		t.Fatalf("%+v %v", store[3], err)
	}
}

// TestWriterBranchCollision: someone's own branch named ferry/tests/<n>
// is not moved: ferry refuses, naming it.
func TestWriterBranchCollision(t *testing.T) {
	w, gh, store, _ := newWriter(t, clamp, nil)
	gh.branch = "theirs"
	res, err := w.Write(context.Background(), repo, pr, "max")
	if err != nil || len(gh.pushes) != 0 || gh.branch != "theirs" || !strings.Contains(res.Note, "ferry/tests/3") || store[3].State != gentest.GaveUp {
		t.Fatalf("%+v %v %+v", res, err, store[3])
	}
}

// TestWriterGiveUpCommentRetried: GitHub fails the give-up comment once:
// the retry finds the record giving up and posts it.
func TestWriterGiveUpCommentRetried(t *testing.T) {
	ctx := context.Background()
	w, gh, store, _ := newWriter(t, clamp, nil)
	if _, err := w.Write(ctx, repo, pr, "max"); err != nil {
		t.Fatal(err)
	}
	gh.runs, gh.failures = []forge.CIRun{{Name: "test", Status: "completed", Conclusion: "failure", Output: "build failed: network"}}, 1
	if err := w.CheckSuite(ctx, repo, "tip1"); err == nil || store[3].State != gentest.GivingUp {
		t.Fatalf("%+v %v", store[3], err)
	}
	if err := w.CheckSuite(ctx, repo, "tip1"); err != nil || store[3].State != gentest.GaveUp || !strings.Contains(gh.comments[3], "cannot blame") {
		t.Fatalf("%+v %v", store[3], err)
	}
}

// TestWriterRestartsStuck: /ferry test on a run whose suite was dropped
// (a pause) judges it again; one still without a verdict after an hour
// starts anew, moving ferry's branch from where it left it.
func TestWriterRestartsStuck(t *testing.T) {
	ctx := context.Background()
	w, gh, store, _ := newWriter(t, clamp, nil)
	if _, err := w.Write(ctx, repo, pr, "max"); err != nil {
		t.Fatal(err)
	}
	gh.runs = green
	if res, err := w.Write(ctx, repo, pr, "max"); err != nil || store[3].State != gentest.Opened || !strings.Contains(res.Note, "proposed in #40") {
		t.Fatalf("%+v %v %+v", res, err, store[3])
	}
	w, gh, store, _ = newWriter(t, clamp, nil)
	if _, err := w.Write(ctx, repo, pr, "max"); err != nil {
		t.Fatal(err)
	}
	w.cfg.Now = func() time.Time { return time.Unix(0, 0).Add(gentest.Restartable + time.Minute) }
	res, err := w.Write(ctx, repo, pr, "max")
	if err != nil || res.Tip != "tip2" || len(gh.pushes) != 2 || gh.pushes[1].Parent != "" || store[3].Tip != "tip2" {
		t.Fatalf("%+v %v %+v", res, err, gh.pushes)
	}
}

// TestWriterTooManyRuns: more check runs than ferry reads are no verdict.
func TestWriterTooManyRuns(t *testing.T) {
	ctx := context.Background()
	w, _, store, _ := newWriter(t, clamp, nil)
	if _, err := w.Write(ctx, repo, pr, "max"); err != nil {
		t.Fatal(err)
	}
	w.deps.CI = func(int64) WriterCI { return &capped{} }
	if err := w.CheckSuite(ctx, repo, "tip1"); err != nil || store[3].State != gentest.WaitingCI {
		t.Fatalf("%+v %v", store[3], err)
	}
}

type capped struct{ fakeGitHub }

func (*capped) CIRuns(context.Context, string, string, string) ([]forge.CIRun, error) {
	return green, github.ErrTooManyCIRuns
}
