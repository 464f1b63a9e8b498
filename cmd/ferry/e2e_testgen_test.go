package main

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/gentest"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/gittest"
	"github.com/ferry-ci/ferry/internal/llmtest"
	"github.com/ferry-ci/ferry/internal/mdtest"
	"github.com/ferry-ci/ferry/internal/store"
)

const calcBase = "package calc\n\n// Parse reads a count.\nfunc Parse(s string) int {\n\treturn len(s)\n}\n"

const calcHead = "package calc\n\n// Parse reads a count.\nfunc Parse(s string) int {\n\tn := 0\n\tfor _, r := range s {\n\t\tif r >= '0' && r <= '9' {\n\t\t\tn = n*10 + int(r-'0')\n\t\t}\n\t}\n\treturn n\n}\n\n" +
	"// Trim drops the spaces around s.\nfunc Trim(s string) string {\n\tfor len(s) > 0 && s[0] == ' ' {\n\t\ts = s[1:]\n\t}\n\treturn s\n}\n"

// testgenWorld is a repository with pull request #1 changing two Go
// functions on branch feature, served over git by the simulator; head
// says how the pull request's head is set up (a fork's, say).
func testgenWorld(t *testing.T, pr githubsim.PullRequest, args ...string) (*githubsim.Sim, *store.DB, int, string) {
	t.Helper()
	r := gittest.New(t)
	base := r.Commit("calc", map[string]string{"go.mod": "module example.com/m\n\ngo 1.24\n", "calc/calc.go": calcBase})
	head := r.Commit("calc: parse digits, trim", map[string]string{"calc/calc.go": calcHead})
	bare := filepath.Join(t.TempDir(), "api.git")
	r.Git("checkout", "-q", "-b", "feature")
	r.Git("branch", "-f", "main", base)
	r.Publish(bare)
	gitIn(t, bare, "update-ref", "refs/pull/1/head", head)
	gitIn(t, bare, "update-ref", "refs/heads/main", base)
	gitIn(t, bare, "update-ref", "refs/pull/1/merge", gitIn(t, bare, "commit-tree", head+"^{tree}", "-p", base, "-p", head, "-m", "Merge"))
	sim, _ := newSim(t)
	sim.ServeGit("acme/api", bare)
	sim.AddCommit("acme/api", base)
	sim.AddCommit("acme/api", head, base)
	sim.SetBranch("acme/api", "main", base)
	sim.SetBranch("acme/api", "feature", head)
	sim.SetPermission("acme/api", "max", "write")
	pr.Title, pr.Head, pr.HeadSHA, pr.BaseSHA = "calc: parse digits", "feature", head, base
	pr.Files = []githubsim.File{{Filename: "calc/calc.go", Status: "modified", Additions: 12, Deletions: 1}}
	n := sim.AddPullRequest("acme/api", pr)
	dsn := dbtest.SQLiteURL(t)
	startWithSim(t, sim, append([]string{"--git-cache-dir=" + t.TempDir(), "--database=" + dsn}, args...)...)
	return sim, dbtest.Open(t, dsn), n, head
}

// ciReports has the simulator's CI ("ci") report on sha: one check run
// "test" with conclusion and output, and the real check_suite completed
// payload for its suite. It returns the delivery's id.
func ciReports(t *testing.T, sim *githubsim.Sim, sha, conclusion, output string) (int64, string) {
	t.Helper()
	id := sim.AddCheckRun("acme/api", sha, "ci", "test", "completed", conclusion)
	sim.SetCheckRunOutput("acme/api", id, "go test", conclusion, output)
	suites := sim.CheckSuites("acme/api")
	i := slices.IndexFunc(suites, func(cs githubsim.CheckSuite) bool { return cs.HeadSHA == sha && cs.App == "ci" })
	guid, status := sim.CompleteCheckSuite("acme/api", suites[i].ID, conclusion)
	if status != 202 {
		t.Fatalf("check_suite answered %d", status)
	}
	return suites[i].ID, guid
}

// TestE2E_TestgenOnGitHub: /ferry test on a pull request changing two Go
// functions pushes ferry/tests/1 on its head (no model here: two fuzz
// targets); CI fails one (`--- FAIL:` in its check run, told by a real
// check_suite completed payload); ferry pushes a commit without it; CI
// passes; ferry opens exactly one pull request into the source branch —
// a redelivered green suite opens no second — and closes it when the
// source pull request closes. ferry ran none of the code.
func TestE2E_TestgenOnGitHub(t *testing.T) {
	sim, db, n, head := testgenWorld(t, githubsim.PullRequest{})
	reply, ok := command(t, sim, "acme/api", n, "max", "/ferry test")
	if !ok || !strings.Contains(reply, "no model configured: proposing fuzz targets only") || !strings.Contains(reply, "pushed 2 tests to") {
		t.Fatalf("reply ok=%t:\n%s", ok, reply)
	}
	branch := gentest.Branch(n)
	tip1 := sim.Ref("acme/api", "heads/"+branch)
	files := sim.TreeFiles("acme/api", tip1)
	parse, trim := files["calc/ferry_fuzz_parse_test.go"], files["calc/ferry_fuzz_trim_test.go"]
	if !strings.Contains(parse, "func FuzzParse(") || !strings.Contains(trim, "func FuzzTrim(") ||
		!slices.Equal(sim.CommitParents("acme/api", tip1), []string{head}) {
		t.Fatalf("round 1 on %s (parents %v): %v", tip1, sim.CommitParents("acme/api", tip1), files)
	}
	if d := decisionsWith(t, db, "generate-tests-"); len(d) != 1 || d[0].Actor != "max" || len(d[0].Reasons) != 2 {
		t.Fatalf("decisions %+v", d)
	}

	// CI fails FuzzTrim: round 2 is a commit without its file.
	ciReports(t, sim, tip1, "failure", "--- FAIL: FuzzTrim (0.00s)\n    calc_test.go:12: panic\nFAIL\texample.com/m/calc\t0.01s")
	waitFor(t, "round 2", func() bool { return sim.Ref("acme/api", "heads/"+branch) != tip1 })
	tip2 := sim.Ref("acme/api", "heads/"+branch)
	files = sim.TreeFiles("acme/api", tip2)
	if _, still := files["calc/ferry_fuzz_trim_test.go"]; still || files["calc/ferry_fuzz_parse_test.go"] != parse ||
		!slices.Equal(sim.CommitParents("acme/api", tip2), []string{tip1}) {
		t.Fatalf("round 2 on %s: %v", tip2, files)
	}
	if len(headed(sim, branch)) != 0 {
		t.Fatal("a pull request before CI passed")
	}

	// Green: one pull request into the source branch.
	suite, _ := ciReports(t, sim, tip2, "success", "ok  \texample.com/m/calc\t0.02s\tcoverage: 75.0% of statements")
	waitFor(t, "ferry's pull request", func() bool { return len(headed(sim, branch)) == 1 })
	pr := headed(sim, branch)[0]
	if pr.Base != "feature" || pr.Title != "Tests for #1" || pr.HeadSHA != tip2 {
		t.Fatalf("pull request %+v", pr)
	}
	for _, want := range []string{"FuzzParse", "`FuzzTrim`", "failed in check run test", "without a model (fuzz targets)",
		"example.com/m/calc: 75.0%", "runs/"} {
		if !strings.Contains(pr.Body, want) {
			t.Fatalf("body lacks %q:\n%s", want, pr.Body)
		}
	}
	linkless := pr.Body[:strings.Index(pr.Body, "[test](")] + pr.Body[strings.Index(pr.Body, "): success"):]
	if p := mdtest.Problems(linkless); len(p) > 0 {
		t.Fatalf("the body renders %v", p)
	}
	// GitHub delivers the green suite again: still one pull request.
	guid, _ := sim.CompleteCheckSuite("acme/api", suite, "success")
	handled(t, db, guid)
	if prs := headed(sim, branch); len(prs) != 1 || sim.Count("pulls/create", 201) != 1 {
		t.Fatalf("pull requests after a redelivery: %+v", prs)
	}

	// The source pull request closes: so does ferry's.
	guid, _ = sim.PullRequestClosed("acme/api", n)
	handled(t, db, guid)
	waitFor(t, "ferry's pull request closed", func() bool { return headed(sim, branch)[0].State == "closed" })
}

// TestAttack_GeneratedTestsFromFork: ferry cannot push to a fork's branch:
// /ferry test on a fork's pull request says so, and pushes nothing.
func TestAttack_GeneratedTestsFromFork(t *testing.T) {
	sim, _, n, _ := testgenWorld(t, githubsim.PullRequest{HeadRepo: "mallory/api"})
	reply, ok := command(t, sim, "acme/api", n, "max", "/ferry test")
	if !ok || !strings.Contains(reply, "comes from a fork: ferry cannot push to its branch") {
		t.Fatalf("reply ok=%t:\n%s", ok, reply)
	}
	if sim.Ref("acme/api", "heads/"+gentest.Branch(n)) != "" || sim.Count("git/create-commit", 201) != 0 {
		t.Fatal("ferry pushed for a fork's pull request")
	}
}

// TestE2E_TestgenOnGitHubWithModel: with a model (the real client against
// a scripted endpoint) ferry pushes the model's tests — the changed
// functions' source reached the model only as data — and the pull request
// it opens once CI passes names the model and the tokens spent.
func TestE2E_TestgenOnGitHubWithModel(t *testing.T) {
	srv := llmtest.New(t)
	srv.Respond(func(c llmtest.Call) llmtest.Reply {
		fn := "Trim"
		if strings.Contains(c.Messages[len(c.Messages)-1].Content, "func Parse(") {
			fn = "Parse"
		}
		if strings.Contains(c.Messages[0].Content, "func "+fn+"(") {
			t.Errorf("the function's source reached the system message")
		}
		code := "func Test" + fn + "Model(t *testing.T) {\n\t_ = " + fn + "(\"12\")\n}"
		return llmtest.Reply{Content: `{"tests":[{"name":"Test` + fn + `Model","code":` + strconv.Quote(code) + `,"imports":["testing"]}]}`,
			PromptTokens: 300, CompletionTokens: 50}
	})
	sim, _, n, _ := testgenWorld(t, githubsim.PullRequest{}, "--llm-url="+srv.URL(), "--llm-model=coder-1")
	reply, ok := command(t, sim, "acme/api", n, "max", "/ferry test")
	if !ok || strings.Contains(reply, "no model configured") || !strings.Contains(reply, "pushed 2 tests to") {
		t.Fatalf("reply ok=%t:\n%s", ok, reply)
	}
	branch := gentest.Branch(n)
	tip := sim.Ref("acme/api", "heads/"+branch)
	var names []string
	for path, src := range sim.TreeFiles("acme/api", tip) {
		if strings.HasSuffix(path, "_test.go") {
			names = append(names, path)
			if !strings.Contains(src, "Model(t *testing.T)") {
				t.Errorf("%s:\n%s", path, src)
			}
		}
	}
	if len(names) != 2 || len(srv.Calls()) != 2 {
		t.Fatalf("test files %v after %d calls", names, len(srv.Calls()))
	}
	ciReports(t, sim, tip, "success", "ok  \texample.com/m/calc\t0.02s")
	waitFor(t, "ferry's pull request", func() bool { return len(headed(sim, branch)) == 1 })
	body := headed(sim, branch)[0].Body
	for _, want := range []string{"TestParseModel", "TestTrimModel", "**Generated** by `coder-1`: 600 prompt and 100 completion tokens"} {
		if !strings.Contains(body, want) {
			t.Fatalf("body lacks %q:\n%s", want, body)
		}
	}
}

// reportsAs is ciReports for another app's check run.
func reportsAs(t *testing.T, sim *githubsim.Sim, app, name, sha, conclusion, output string) string {
	t.Helper()
	id := sim.AddCheckRun("acme/api", sha, app, name, "completed", conclusion)
	sim.SetCheckRunOutput("acme/api", id, name, conclusion, output)
	suites := sim.CheckSuites("acme/api")
	i := slices.IndexFunc(suites, func(cs githubsim.CheckSuite) bool { return cs.HeadSHA == sha && cs.App == app })
	guid, status := sim.CompleteCheckSuite("acme/api", suites[i].ID, conclusion)
	if status != 202 {
		t.Fatalf("check_suite answered %d", status)
	}
	return guid
}

// commented waits for the writer's comment on the source pull request
// saying want.
func commented(t *testing.T, sim *githubsim.Sim, n int, want string) {
	t.Helper()
	waitFor(t, "a comment saying "+want, func() bool {
		return slices.ContainsFunc(sim.Comments("acme/api", n), func(c githubsim.Comment) bool { return strings.Contains(c.Body, want) })
	})
}

// TestAttack_GeneratedTestsStaleHead: the source pull request's head moves
// (a rebase, no event seen; or a push, synchronize) while CI runs: ferry
// opens no pull request built on the old head into the source branch.
func TestAttack_GeneratedTestsStaleHead(t *testing.T) {
	for _, event := range []bool{false, true} {
		sim, db, n, _ := testgenWorld(t, githubsim.PullRequest{})
		if _, ok := command(t, sim, "acme/api", n, "max", "/ferry test"); !ok {
			t.Fatal("no push")
		}
		branch := gentest.Branch(n)
		tip1 := sim.Ref("acme/api", "heads/"+branch)
		rebased := sim.Ref("acme/api", "heads/main")
		sim.SetBranch("acme/api", "feature", rebased)
		if event {
			guid, _ := sim.PushToPullRequest("acme/api", n, rebased, nil, nil)
			handled(t, db, guid)
		} else {
			sim.SetPullRequestHead("acme/api", n, rebased, nil, nil)
		}
		_, guid := ciReports(t, sim, tip1, "success", "ok  \texample.com/m/calc\t0.02s")
		handled(t, db, guid)
		if !event {
			commented(t, sim, n, "the pull request moved on")
		}
		if prs := headed(sim, branch); len(prs) != 0 {
			t.Fatalf("synchronize %t: opened %+v on the old head", event, prs)
		}
	}
}

// TestAttack_GeneratedTestsNoEvidence: a check from another app (a CLA
// bot) succeeding, or CI's test job skipped, is not CI running ferry's
// tests: no pull request.
func TestAttack_GeneratedTestsNoEvidence(t *testing.T) {
	for _, ci := range []func(sim *githubsim.Sim, tip string) string{
		func(sim *githubsim.Sim, tip string) string {
			return reportsAs(t, sim, "cla-bot", "cla", tip, "success", "CLA signed")
		},
		func(sim *githubsim.Sim, tip string) string {
			_, guid := ciReports(t, sim, tip, "skipped", "")
			return guid
		},
	} {
		sim, db, n, _ := testgenWorld(t, githubsim.PullRequest{})
		if _, ok := command(t, sim, "acme/api", n, "max", "/ferry test"); !ok {
			t.Fatal("no push")
		}
		branch := gentest.Branch(n)
		handled(t, db, ci(sim, sim.Ref("acme/api", "heads/"+branch)))
		if prs := headed(sim, branch); len(prs) != 0 {
			t.Fatalf("opened without evidence CI ran the tests: %+v", prs)
		}
	}
}

// TestAttack_GeneratedTestsBranchCollision: a person's own branch named
// ferry/tests/<n> is not moved: ferry refuses, naming it.
func TestAttack_GeneratedTestsBranchCollision(t *testing.T) {
	sim, _, n, _ := testgenWorld(t, githubsim.PullRequest{})
	branch := gentest.Branch(n)
	mine := sim.Ref("acme/api", "heads/main")
	sim.SetBranch("acme/api", branch, mine)
	reply, _ := command(t, sim, "acme/api", n, "max", "/ferry test")
	if got := sim.Ref("acme/api", "heads/"+branch); got != mine || !strings.Contains(reply, branch) {
		t.Fatalf("the person's branch %s moved to %s; reply:\n%s", branch, got, reply)
	}
}

// TestE2E_TestgenResumesAfterPause: a pause while CI runs drops the
// check_suite; after resume, /ferry test judges the run again and opens
// the pull request.
func TestE2E_TestgenResumesAfterPause(t *testing.T) {
	sim, db, n, _ := testgenWorld(t, githubsim.PullRequest{})
	sim.SetPermission("acme/api", "max", "admin")
	if _, ok := command(t, sim, "acme/api", n, "max", "/ferry test"); !ok {
		t.Fatal("no push")
	}
	branch := gentest.Branch(n)
	tip1 := sim.Ref("acme/api", "heads/"+branch)
	if _, ok := command(t, sim, "acme/api", n, "max", "/ferry pause all maintenance"); !ok {
		t.Fatal("pause")
	}
	_, guid := ciReports(t, sim, tip1, "success", "ok  \texample.com/m/calc\t0.02s")
	handled(t, db, guid)
	if _, ok := command(t, sim, "acme/api", n, "max", "/ferry resume all"); !ok {
		t.Fatal("resume")
	}
	if reply, _ := command(t, sim, "acme/api", n, "max", "/ferry test"); len(headed(sim, branch)) != 1 || !strings.Contains(reply, "proposed in #") {
		t.Fatalf("pull requests %d; reply:\n%s", len(headed(sim, branch)), reply)
	}
}

// TestE2E_TestgenGiveUpCommentRetried: GitHub fails the give-up comment
// once: the job's retry posts it.
func TestE2E_TestgenGiveUpCommentRetried(t *testing.T) {
	sim, _, n, _ := testgenWorld(t, githubsim.PullRequest{})
	if _, ok := command(t, sim, "acme/api", n, "max", "/ferry test"); !ok {
		t.Fatal("no push")
	}
	tip1 := sim.Ref("acme/api", "heads/"+gentest.Branch(n))
	sim.Inject(githubsim.Fault{Method: "POST", Path: "^/repos/acme/api/issues/1/comments$", Status: 502})
	ciReports(t, sim, tip1, "failure", "build failed: network")
	waitFor(t, "the fault used", func() bool { return sim.Count("issues/create-comment", 502) == 1 })
	commented(t, sim, n, "proposes no tests")
}
