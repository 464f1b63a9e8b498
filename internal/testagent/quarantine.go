package testagent

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/md"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/testsel"
)

// maxNewPerRun bounds the quarantines one run proposes: reports are what
// CI says, and CI runs what a branch says.
const maxNewPerRun = 10

// Branches of ferry's quarantine pull requests.
const (
	quarantineBranch = "ferry/quarantine"
	releaseBranch    = "ferry/quarantine-release"
)

// Ingest reads a completed workflow run's test reports, records every
// flake it shows, and — where policy enables it — proposes quarantines and
// releases. Paused repositories are the caller's to skip.
func (a *Agent) Ingest(ctx context.Context, r Repo, run Run, pol policy.Policy) error {
	gh := a.deps.GitHub(r.InstallationID)
	if _, err := a.read(ctx, gh, r, run); err != nil {
		return err
	}
	q := pol.Quarantine
	runs, err := a.deps.Results.Runs(ctx, r.ID, a.cfg.Now().Add(-q.Window))
	if err != nil {
		return err
	}
	flakes := testsel.Flakes(runs, a.cfg.Now().Add(-q.Window))
	for _, f := range flakes {
		for _, sha := range f.Events {
			if err := a.verdict(ctx, r, f, sha); err != nil {
				return err
			}
		}
	}
	if !q.Auto {
		return nil
	}
	listed, err := a.listed(ctx, gh, r)
	if err != nil {
		return err
	}
	if err := a.quarantine(ctx, gh, r, flakes, listed, q); err != nil {
		return err
	}
	return a.release(ctx, gh, r, flakes, listed, q)
}

// verdict records a flake event as an audit decision, once per test and
// commit.
func (a *Agent) verdict(ctx context.Context, r Repo, f testsel.Flakiness, sha string) error {
	d := audit.Decision{ID: "flake-" + strconv.FormatInt(r.ID, 10) + "-" + sha[:min(12, len(sha))] + "-" + audit.Digest([]any{f.Test})[:12],
		At: a.cfg.Now(), RepositoryID: r.ID, Repository: r.fullName(), Subject: "test:" + f.Test, Kind: audit.KindFlake, Actor: audit.Ferry,
		InputsDigest: audit.Digest([]any{f.Test, sha}),
		Output:       fmt.Sprintf("%s failed and passed on %s: flaky (score %.2f over %d commits)", f.Test, short(sha), f.Score, f.Commits)}
	return a.deps.Audit.RecordDecision(ctx, d, 0)
}

// listed is the quarantine file on the default branch (none when absent
// or broken: a broken file quarantines nothing, and ferry's pull request
// will rewrite it whole).
func (a *Agent) listed(ctx context.Context, gh GitHub, r Repo) ([]testsel.Quarantined, error) {
	data, err := gh.FileContent(ctx, r.Owner, r.Name, testsel.QuarantinePath, r.DefaultBranch)
	if github.Classify(err) == github.KindNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	q, err := testsel.ParseQuarantine(data)
	if err != nil {
		a.cfg.Logger.WarnContext(ctx, "the quarantine file is broken; it quarantines nothing", "err", err)
		return nil, nil
	}
	return q, nil
}

// quarantine proposes the tests that flaked on MinEvents commits or more,
// not listed or proposed yet: each gets its tracking issue, and one pull
// request adds them all to the file. Each record is written before the
// issue and the pull request, so a retry adds neither twice.
func (a *Agent) quarantine(ctx context.Context, gh GitHub, r Repo, flakes []testsel.Flakiness, listed []testsel.Quarantined, q policy.Quarantine) error {
	records, known, err := a.records(ctx, r)
	if err != nil {
		return err
	}
	changed, err := a.openMissingIssues(ctx, gh, r, records, known)
	if err != nil {
		return err
	}
	changedN := 0
	for _, f := range flakes {
		rec, seen := known[f.Test]
		released := rec.State == testsel.ReleaseProposed && !isListed(listed, f.Test) // released, and flaky again
		if len(f.Events) < q.MinEvents || isListed(listed, f.Test) || seen && rec.State != testsel.Proposing && !released ||
			!testsel.ValidName(f.Test) || changedN >= maxNewPerRun {
			continue
		}
		if released && len(f.Events) <= rec.Events {
			continue // the events it was quarantined and released over
		}
		changedN++
		rec = testsel.Record{Test: f.Test, State: testsel.Proposing, Issue: rec.Issue, Reason: evidence(f), Events: len(f.Events)}
		if err := a.deps.Results.SaveQuarantine(ctx, r.ID, rec, a.cfg.Now()); err != nil {
			return err
		}
		number, _, err := gh.OpenIssue(ctx, r.Owner, r.Name, "flaky-"+audit.Digest([]any{f.Test})[:16], "Flaky test: "+f.Test, issueBody(f))
		if err != nil {
			return err
		}
		rec.Issue = number
		if err := a.deps.Results.SaveQuarantine(ctx, r.ID, rec, a.cfg.Now()); err != nil {
			return err
		}
		known[f.Test] = rec
		changed = true
	}
	var pending []testsel.Record
	for _, rec := range known {
		if rec.State == testsel.Proposing || rec.State == testsel.Proposed && !isListed(listed, rec.Test) {
			pending = append(pending, rec)
		}
	}
	if !changed && !slices.ContainsFunc(pending, func(rec testsel.Record) bool { return rec.State == testsel.Proposing }) {
		return nil
	}
	return a.proposeQuarantine(ctx, gh, r, listed, pending)
}

// openMissingIssues opens the tracking issue of each test recorded for
// quarantine without one yet (asked for by a person, or a retry), with
// what ferry knows of it.
func (a *Agent) openMissingIssues(ctx context.Context, gh GitHub, r Repo, records []testsel.Record, known map[string]testsel.Record) (bool, error) {
	opened := false
	for _, rec := range records {
		if rec.State != testsel.Proposing || rec.Issue != 0 {
			continue
		}
		number, _, err := gh.OpenIssue(ctx, r.Owner, r.Name, "flaky-"+audit.Digest([]any{rec.Test})[:16], "Flaky test: "+rec.Test,
			"Quarantine of "+md.Code(rec.Test)+" "+md.Text(rec.Reason)+". It keeps running outside the blocking job; this issue tracks it.")
		if err != nil {
			return opened, err
		}
		rec.Issue = number
		if err := a.deps.Results.SaveQuarantine(ctx, r.ID, rec, a.cfg.Now()); err != nil {
			return opened, err
		}
		known[rec.Test], opened = rec, true
	}
	return opened, nil
}

// proposeQuarantine opens or updates the one pull request adding the
// pending tests to the quarantine file, then marks them proposed.
func (a *Agent) proposeQuarantine(ctx context.Context, gh GitHub, r Repo, listed []testsel.Quarantined, pending []testsel.Record) error {
	slices.SortFunc(pending, func(x, y testsel.Record) int { return strings.Compare(x.Test, y.Test) })
	all := slices.Clone(listed)
	var body strings.Builder
	body.WriteString(forge.BodyStart + "\n### 🧪 ferry: quarantine flaky tests\n\nThese tests failed and passed on the same commit — nothing " +
		"changed in between. Quarantined, they keep running in a job that does not block (see `ferry select-tests`), and their " +
		"results keep being recorded; ferry proposes releasing each once it passes again.\n\n")
	day := a.cfg.Now().UTC().Format("2006-01-02")
	for _, rec := range pending {
		all = append(all, testsel.Quarantined{Test: rec.Test, Reason: rec.Reason, Issue: rec.Issue, Since: day})
		fmt.Fprintf(&body, "- %s — %s (tracking: #%d)\n", md.Code(rec.Test), md.Text(rec.Reason), rec.Issue)
	}
	body.WriteString("\n" + forge.BodyEnd + "\n")
	content, err := quarantineFile(all)
	if err != nil {
		return err
	}
	title := fmt.Sprintf("Quarantine %d flaky %s", len(pending), plural(len(pending), "test", "tests"))
	number, _, err := gh.Propose(ctx, r.Owner, r.Name, forge.Proposal{Branch: quarantineBranch, Base: r.DefaultBranch,
		Message: title + "\n\nProposed by ferry's test agent.", Title: title, Body: body.String(),
		Files: map[string]string{testsel.QuarantinePath: content}})
	if err != nil {
		return err
	}
	for _, rec := range pending {
		rec.State = testsel.Proposed
		if err := a.deps.Results.SaveQuarantine(ctx, r.ID, rec, a.cfg.Now()); err != nil {
			return err
		}
		if err := a.record(ctx, r, "quarantine-"+audit.Digest([]any{rec.Test})[:16]+"-"+strconv.Itoa(number),
			fmt.Sprintf("proposed quarantining %s in #%d (tracking #%d): %s", rec.Test, number, rec.Issue, rec.Reason), number); err != nil {
			return err
		}
	}
	return nil
}

// release proposes removing listed tests that passed ReleaseAfter runs in
// a row, in one pull request, and says so on their tracking issues. Each is
// recorded before the pull request is made; one already proposed (or whose
// proposal a person closed) is not proposed again.
func (a *Agent) release(ctx context.Context, gh GitHub, r Repo, flakes []testsel.Flakiness, listed []testsel.Quarantined, q policy.Quarantine) error {
	_, state, err := a.records(ctx, r)
	if err != nil {
		return err
	}
	var keep, released []testsel.Quarantined
	for _, t := range listed {
		i := slices.IndexFunc(flakes, func(f testsel.Flakiness) bool { return f.Test == t.Test })
		rec := state[t.Test]
		switch {
		case rec.State == testsel.ReleaseProposed:
			keep = append(keep, t) // proposed already
		case rec.State == testsel.ReleaseProposing || i >= 0 && flakes[i].Passing >= q.ReleaseAfter:
			released = append(released, t)
		default:
			keep = append(keep, t)
		}
	}
	if len(released) == 0 {
		return nil
	}
	for _, t := range released {
		rec := state[t.Test]
		rec.Test, rec.State, rec.Issue = t.Test, testsel.ReleaseProposing, max(rec.Issue, t.Issue)
		if err := a.deps.Results.SaveQuarantine(ctx, r.ID, rec, a.cfg.Now()); err != nil {
			return err
		}
	}
	content, err := quarantineFile(keep)
	if err != nil {
		return err
	}
	var body strings.Builder
	body.WriteString(forge.BodyStart + "\n### 🧪 ferry: release tests from quarantine\n\nEach passed " + strconv.Itoa(q.ReleaseAfter) +
		" runs in a row or more:\n\n")
	for _, t := range released {
		fmt.Fprintf(&body, "- %s\n", md.Code(t.Test))
	}
	body.WriteString("\n" + forge.BodyEnd + "\n")
	title := fmt.Sprintf("Release %d %s from quarantine", len(released), plural(len(released), "test", "tests"))
	number, _, err := gh.Propose(ctx, r.Owner, r.Name, forge.Proposal{Branch: releaseBranch, Base: r.DefaultBranch,
		Message: title + "\n\nProposed by ferry's test agent.", Title: title, Body: body.String(),
		Files: map[string]string{testsel.QuarantinePath: content}})
	if err != nil {
		return err
	}
	for _, t := range released {
		if err := a.released(ctx, gh, r, t, number, q); err != nil {
			return err
		}
	}
	return nil
}

// released tells a test's tracking issue its release is proposed, records
// the decision, and marks it proposed (comments and decisions are keyed:
// a retry repeats neither).
func (a *Agent) released(ctx context.Context, gh GitHub, r Repo, t testsel.Quarantined, number int, q policy.Quarantine) error {
	if t.Issue > 0 {
		msg := "ferry: " + md.Code(t.Test) + " passed " + strconv.Itoa(q.ReleaseAfter) + " runs in a row; its release is proposed in #" +
			strconv.Itoa(number) + "."
		if _, err := gh.UpsertComment(ctx, r.Owner, r.Name, t.Issue, "quarantine-release", msg); err != nil {
			return err
		}
	}
	if err := a.record(ctx, r, "release-"+audit.Digest([]any{t.Test})[:16]+"-"+strconv.Itoa(number),
		fmt.Sprintf("proposed releasing %s from quarantine in #%d", t.Test, number), number); err != nil {
		return err
	}
	return a.deps.Results.SaveQuarantine(ctx, r.ID, testsel.Record{Test: t.Test, State: testsel.ReleaseProposed, Issue: t.Issue}, a.cfg.Now())
}

func isListed(listed []testsel.Quarantined, test string) bool {
	return slices.ContainsFunc(listed, func(q testsel.Quarantined) bool { return q.Test == test })
}

// quarantineFile writes the file (sorted, version 1).
func quarantineFile(tests []testsel.Quarantined) (string, error) {
	slices.SortFunc(tests, func(x, y testsel.Quarantined) int { return strings.Compare(x.Test, y.Test) })
	b, err := yaml.Marshal(struct {
		Version int                   `json:"version"`
		Tests   []testsel.Quarantined `json:"tests"`
	}{1, tests})
	if err != nil {
		return "", fmt.Errorf("write %s: %w", testsel.QuarantinePath, err)
	}
	return "# Tests ferry runs outside the blocking job; see ferry select-tests.\n" + string(b), nil
}

// evidence is a flaky test's record in one line (plain text).
func evidence(f testsel.Flakiness) string {
	shas := make([]string, 0, len(f.Events))
	for _, s := range f.Events {
		shas = append(shas, short(s))
	}
	return fmt.Sprintf("failed and passed on %d %s (%s); %d failures in %d runs", len(f.Events), plural(len(f.Events), "commit", "commits"),
		strings.Join(shas, ", "), f.Failures, f.Runs)
}

func issueBody(f testsel.Flakiness) string {
	return "ferry saw " + md.Code(f.Test) + " fail and pass on the same commit, nothing changed in between: " + md.Text(evidence(f)) +
		".\n\nferry proposes quarantining it; it keeps running outside the blocking job and its results keep being recorded. " +
		"This issue tracks it until ferry proposes its release."
}

func (a *Agent) record(ctx context.Context, r Repo, id, output string, number int) error {
	d := audit.Decision{ID: "tests-" + strconv.FormatInt(r.ID, 10) + "-" + id, At: a.cfg.Now(), RepositoryID: r.ID, Repository: r.fullName(),
		Subject: "#" + strconv.Itoa(number), Kind: audit.KindFlake, Actor: audit.Ferry, InputsDigest: audit.Digest([]any{output}), Output: output}
	return a.deps.Audit.RecordDecision(ctx, d, number)
}

func short(sha string) string { return sha[:min(8, len(sha))] }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Quarantine is /ferry quarantine: a person asks for a test to be
// quarantined (the evidence ferry has, if any, goes with it). why is the
// refusal to answer, "" when proposed.
func (a *Agent) Quarantine(ctx context.Context, r Repo, test, by string, pol policy.Policy) (why string, err error) {
	if !testsel.ValidName(test) {
		return "name the test as PACKAGE.TestName (e.g. example.com/m/calc.TestParse)", nil
	}
	gh := a.deps.GitHub(r.InstallationID)
	listed, err := a.listed(ctx, gh, r)
	if err != nil {
		return "", err
	}
	if isListed(listed, test) {
		return test + " is quarantined already", nil
	}
	_, known, err := a.records(ctx, r)
	if err != nil {
		return "", err
	}
	if rec, ok := known[test]; ok && rec.State != testsel.ReleaseProposed {
		return test + "'s quarantine is proposed already", nil
	}
	f := testsel.Flakiness{Test: test}
	runs, err := a.deps.Results.Runs(ctx, r.ID, a.cfg.Now().Add(-pol.Quarantine.Window))
	if err != nil {
		return "", err
	}
	for _, fl := range testsel.Flakes(runs, a.cfg.Now().Add(-pol.Quarantine.Window)) {
		if fl.Test == test {
			f = fl
		}
	}
	reason := "requested by @" + by
	if len(f.Events) > 0 {
		reason += "; " + evidence(f)
	}
	rec := testsel.Record{Test: test, State: testsel.Proposing, Reason: reason, Events: len(f.Events)}
	if err := a.deps.Results.SaveQuarantine(ctx, r.ID, rec, a.cfg.Now()); err != nil {
		return "", err
	}
	// The pending records, this one among them, go in one pull request.
	return "", a.quarantine(ctx, gh, r, nil, listed, pol.Quarantine)
}

// records are the repository's quarantine records, and by test.
func (a *Agent) records(ctx context.Context, r Repo) ([]testsel.Record, map[string]testsel.Record, error) {
	records, err := a.deps.Results.Quarantines(ctx, r.ID)
	if err != nil {
		return nil, nil, err
	}
	by := make(map[string]testsel.Record, len(records))
	for _, rec := range records {
		by[rec.Test] = rec
	}
	return records, by, nil
}
