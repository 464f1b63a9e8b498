package main

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/store"
	"github.com/ferry-ci/ferry/internal/testsel"
)

// reportZip is an artifact holding a real go test -json report (see
// internal/testsel/testdata/SOURCES).
func reportZip(t *testing.T, report string) []byte {
	t.Helper()
	data, err := os.ReadFile("../../internal/testsel/testdata/" + report)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create("reports/" + report)
	if err == nil {
		_, err = w.Write(data)
	}
	if err != nil || zw.Close() != nil {
		t.Fatalf("zip: %v", err)
	}
	return b.Bytes()
}

// flakyWorld starts ferry on a repository whose policy quarantines as
// quarantine says.
func flakyWorld(t *testing.T, quarantine string) (*githubsim.Sim, int64, *store.DB) {
	t.Helper()
	sim, repoID := newSim(t)
	sim.SetFile("acme/api", "main", ".github/ferry.yml", "version: 1\ntests:\n  quarantine: "+quarantine+"\n")
	dsn := dbtest.SQLiteURL(t)
	startWithSim(t, sim, "--database="+dsn)
	return sim, repoID, dbtest.Open(t, dsn)
}

func headed(sim *githubsim.Sim, branch string) []githubsim.PullRequest {
	var out []githubsim.PullRequest
	for _, p := range sim.PullRequests("acme/api") {
		if p.Head == branch {
			out = append(out, p)
		}
	}
	return out
}

// TestE2E_FlakyTestQuarantined: a workflow run fails a test and its re-run
// of the same commit passes it: ferry reads both attempts' uploaded go
// test -json reports, opens one tracking issue and one pull request adding
// the test to .github/ferry-quarantine.yml — once, however often the event
// comes. Quarantined and passing again, its release is proposed, and its
// issue told.
func TestE2E_FlakyTestQuarantined(t *testing.T) {
	sim, repoID, db := flakyWorld(t, "{auto: true, min_events: 1, release_after: 2}")
	read := func(id int64) bool {
		ok, _ := db.SourceRead(context.Background(), repoID, "artifact:"+strconv.FormatInt(id, 10))
		return ok
	}
	sha := strings.Repeat("a", 40)
	first := sim.AddArtifact("acme/api", 100, 1, "go-test-report", reportZip(t, "gotest-fail.json"))
	if _, status := sim.WorkflowRunCompleted("acme/api", 100, 1, sha, "main", "failure"); status != http.StatusAccepted {
		t.Fatalf("workflow_run answered %d", status)
	}
	waitFor(t, "the first attempt's report", func() bool { return read(first) })
	if len(headed(sim, "ferry/quarantine")) != 0 {
		t.Fatal("quarantined after one failure")
	}
	second := sim.AddArtifact("acme/api", 100, 2, "go-test-report", reportZip(t, "gotest-pass.json"))
	sim.WorkflowRunCompleted("acme/api", 100, 2, sha, "main", "success")
	waitFor(t, "the quarantine pull request", func() bool { return len(headed(sim, "ferry/quarantine")) == 1 })
	sim.WorkflowRunCompleted("acme/api", 100, 2, sha, "main", "success") // told again
	waitFor(t, "the repeated event handled", func() bool { return read(second) && len(sim.Issues("acme/api")) == 1 })
	pr := headed(sim, "ferry/quarantine")[0]
	issues := sim.Issues("acme/api")
	file := sim.TreeFiles("acme/api", pr.HeadSHA)[testsel.QuarantinePath]
	q, err := testsel.ParseQuarantine([]byte(file))
	if err != nil || len(q) != 1 || q[0].Test != "example.com/flaky/calc.TestFlaky" || q[0].Issue != issues[0].Number {
		t.Fatalf("quarantine file %v:\n%s", err, file)
	}
	if len(issues) != 1 || issues[0].Title != "Flaky test: example.com/flaky/calc.TestFlaky" || !strings.Contains(pr.Body, "calc.TestFlaky") {
		t.Fatalf("issues %+v; body:\n%s", issues, pr.Body)
	}
	if len(headed(sim, "ferry/quarantine")) != 1 {
		t.Fatal("a second quarantine pull request")
	}
	// The verdicts: the test, and the workflow itself (failed, then passed
	// on one commit) — never quarantined, but recorded.
	var verdicts []string
	for _, d := range decisionsWith(t, db, "flake-") {
		verdicts = append(verdicts, d.Subject)
	}
	if !slices.Contains(verdicts, "test:example.com/flaky/calc.TestFlaky") ||
		!slices.ContainsFunc(verdicts, func(s string) bool { return strings.HasPrefix(s, "test:workflow run.") }) {
		t.Fatalf("flake verdicts %v", verdicts)
	}

	// Merged: the default branch lists it; two passing runs later ferry
	// proposes its release.
	sim.SetFile("acme/api", "main", testsel.QuarantinePath, file)
	for i, run := range []int64{101, 102} {
		sim.AddArtifact("acme/api", run, 1, "go-test-report", reportZip(t, "gotest-pass.json"))
		sim.WorkflowRunCompleted("acme/api", run, 1, strings.Repeat(string(rune('b'+i)), 40), "main", "success")
	}
	waitFor(t, "the release pull request", func() bool { return len(headed(sim, "ferry/quarantine-release")) == 1 })
	rel := headed(sim, "ferry/quarantine-release")[0]
	if got, err := testsel.ParseQuarantine([]byte(sim.TreeFiles("acme/api", rel.HeadSHA)[testsel.QuarantinePath])); err != nil || len(got) != 0 {
		t.Fatalf("release file: %v %v", got, err)
	}
	waitFor(t, "the tracking issue told", func() bool {
		for _, c := range sim.Comments("acme/api", issues[0].Number) {
			if strings.Contains(c.Body, "its release is proposed in #"+strconv.Itoa(rel.Number)) {
				return true
			}
		}
		return false
	})
}

// TestE2E_QuarantineCommand: /ferry quarantine by a maintainer proposes
// the test (its issue, the pull request); a name that is not a test, or a
// writer's request, is refused.
func TestE2E_QuarantineCommand(t *testing.T) {
	sim, _ := newSim(t)
	sim.SetPermission("acme/api", "max", "maintain")
	sim.SetPermission("acme/api", "wes", "write")
	startWithSim(t, sim, "--database="+dbtest.SQLiteURL(t))
	n := sim.AddIssue("acme/api", "CI is red half the time")
	if reply, ok := command(t, sim, "acme/api", n, "max", "/ferry quarantine example.com/m.Test.*"); ok || !strings.Contains(reply, "PACKAGE.TestName") {
		t.Fatalf("a bad name: ok %t\n%s", ok, reply)
	}
	if _, ok := command(t, sim, "acme/api", n, "wes", "/ferry quarantine example.com/m/calc.TestParse"); ok {
		t.Fatal("a writer quarantined a test")
	}
	if reply, ok := command(t, sim, "acme/api", n, "max", "/ferry quarantine example.com/m/calc.TestParse"); !ok {
		t.Fatalf("refused:\n%s", reply)
	}
	prs := headed(sim, "ferry/quarantine")
	if len(prs) != 1 || !strings.Contains(sim.TreeFiles("acme/api", prs[0].HeadSHA)[testsel.QuarantinePath], "example.com/m/calc.TestParse") ||
		!strings.Contains(prs[0].Body, "requested by @&#8203;max") {
		t.Fatalf("pull requests %+v", prs)
	}
	if issues := sim.Issues("acme/api"); len(issues) != 2 || issues[1].Title != "Flaky test: example.com/m/calc.TestParse" {
		t.Fatalf("issues %+v", issues)
	}
}

// TestAttack_FlakyFromFork: a pull request from a fork runs the fork's
// code, and its reports say what the fork wants: a test of this repository
// failing and passing there quarantines nothing, and nothing is read.
func TestAttack_FlakyFromFork(t *testing.T) {
	sim, repoID, db := flakyWorld(t, "{auto: true, min_events: 1}")
	sha := strings.Repeat("f", 40)
	a1 := sim.AddArtifact("acme/api", 300, 1, "go-test-report", reportZip(t, "gotest-fail.json"))
	sim.ForkWorkflowRunCompleted("acme/api", 300, 1, sha, "patch-1", "failure")
	sim.AddArtifact("acme/api", 300, 2, "go-test-report", reportZip(t, "gotest-pass.json"))
	sim.ForkWorkflowRunCompleted("acme/api", 300, 2, sha, "patch-1", "success")
	waitFor(t, "both deliveries handled", func() bool {
		var n int
		_ = db.SQL().QueryRow(`SELECT COUNT(*) FROM deliveries WHERE event = 'workflow_run' AND status = 'done'`).Scan(&n)
		return n == 2
	})
	if read, _ := db.SourceRead(context.Background(), repoID, "artifact:"+strconv.FormatInt(a1, 10)); read || len(sim.Issues("acme/api")) != 0 ||
		len(headed(sim, "ferry/quarantine")) != 0 {
		t.Fatalf("a fork's reports were read (%t) or acted on", read)
	}
}
