// Package testagent learns from what CI reports about tests: it reads the
// go test -json and JUnit reports a workflow run uploads, records every
// test's outcome once, finds the tests that failed and passed on one
// commit (flakes), and — where policy enables it — proposes quarantining
// them (one pull request editing .github/ferry-quarantine.yml, one
// tracking issue per test) and releasing them once they pass again. ferry
// never runs a repository's tests; what to run is testsel's decision.
package testagent

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/testsel"
)

// GitHub is what the agent reads and writes in one installation.
type GitHub interface {
	RunArtifacts(ctx context.Context, owner, repo string, runID int64) ([]forge.Artifact, error)
	DownloadArtifact(ctx context.Context, owner, repo string, id, max int64) ([]byte, error)
	FileContent(ctx context.Context, owner, repo, path, ref string) ([]byte, error)
	Propose(ctx context.Context, owner, repo string, p forge.Proposal) (number int, created bool, err error)
	OpenIssue(ctx context.Context, owner, repo, key, title, body string) (number int, created bool, err error)
	UpsertComment(ctx context.Context, owner, repo string, number int, key, body string) (int64, error)
}

// Results keeps what CI reported and the quarantines ferry proposed.
type Results interface {
	SourceRead(ctx context.Context, repositoryID int64, source string) (bool, error)
	SaveRun(ctx context.Context, repositoryID int64, run testsel.Run) error
	Runs(ctx context.Context, repositoryID int64, since time.Time) ([]testsel.Run, error)
	SaveQuarantine(ctx context.Context, repositoryID int64, q testsel.Record, at time.Time) error
	Quarantines(ctx context.Context, repositoryID int64) ([]testsel.Record, error)
}

// Audit keeps the agent's decisions.
type Audit interface {
	RecordDecision(ctx context.Context, d audit.Decision, number int) error
}

// Limits on what CI uploads: it is outside ferry's control.
const (
	maxArtifactBytes = 50 << 20  // one archive
	maxEntries       = 200       // report files read from one archive
	maxEntryBytes    = 64 << 20  // one report, uncompressed
	maxArtifactTotal = 256 << 20 // all reports of one archive, uncompressed
	maxArtifacts     = 50        // archives read per run
	maxResults       = 20_000    // results kept from one archive
)

// Config configures the agent.
type Config struct {
	Logger *slog.Logger
	Now    func() time.Time
}

// Deps are the agent's collaborators.
type Deps struct {
	GitHub  func(installationID int64) GitHub
	Results Results
	Audit   Audit
}

// Agent learns from CI's test reports.
type Agent struct {
	cfg  Config
	deps Deps
}

// New returns the agent.
func New(cfg Config, deps Deps) *Agent {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Agent{cfg: cfg, deps: deps}
}

// Repo is the repository a run belongs to.
type Repo struct {
	InstallationID, ID int64
	Owner, Name        string
	DefaultBranch      string
	CloneURL, HTMLURL  string // for reading a pull request with git, and links
	// LLMBudget is the policy's daily tokens for the installation (0: the
	// server's cap alone).
	LLMBudget int64
}

// downloader fetches a workflow run's artifact.
type downloader interface {
	DownloadArtifact(ctx context.Context, owner, repo string, id, max int64) ([]byte, error)
}

func (r Repo) fullName() string { return r.Owner + "/" + r.Name }

// Run is a workflow run's attempt that completed.
type Run struct {
	ID         int64
	Attempt    int
	SHA        string
	Workflow   string // its name
	Conclusion string // success, failure, cancelled, …
}

// read records the reports of a run's artifacts not read before: each
// archive once (a re-run's attempt uploads archives of its own).
func (a *Agent) read(ctx context.Context, gh GitHub, r Repo, run Run) (int, error) {
	// The attempt itself is a result: a workflow that failed and passed on
	// one commit is flaky as a whole, reports or not (a verdict in the
	// audit trail; "workflow run" is no package, so never quarantined).
	if o, ok := map[string]testsel.Outcome{"success": testsel.Passed, "failure": testsel.Failed}[run.Conclusion]; ok && run.Workflow != "" {
		source := fmt.Sprintf("run:%d:%d", run.ID, run.Attempt)
		if err := a.deps.Results.SaveRun(ctx, r.ID, testsel.Run{ID: source, SHA: run.SHA, Group: run.Workflow, At: a.cfg.Now(),
			Results: []testsel.Result{{Suite: "workflow run", Test: run.Workflow, Outcome: o}}}); err != nil {
			return 0, err
		}
	}
	arts, err := gh.RunArtifacts(ctx, r.Owner, r.Name, run.ID)
	if err != nil {
		return 0, err
	}
	read := 0
	for i, art := range arts {
		if i == maxArtifacts {
			break
		}
		source := "artifact:" + strconv.FormatInt(art.ID, 10)
		if done, err := a.deps.Results.SourceRead(ctx, r.ID, source); err != nil || done || art.Expired {
			if err != nil {
				return read, err
			}
			continue
		}
		results, err := reports(ctx, a.cfg.Logger, gh, r, art)
		if err != nil {
			return read, err // GitHub or its storage failed for now: the retry reads it
		}
		if err := a.deps.Results.SaveRun(ctx, r.ID, testsel.Run{ID: source, SHA: run.SHA, Group: run.Workflow + "/" + art.Name,
			At: a.cfg.Now(), Results: results}); err != nil {
			return read, err
		}
		read++
	}
	return read, nil
}

// reports are the test results in an artifact: none when it is too
// large, gone, not a zip, or holds no report ferry reads (logged; it is
// never read again); an error when GitHub or its storage failed for now.
func reports(ctx context.Context, log *slog.Logger, gh downloader, r Repo, art forge.Artifact) ([]testsel.Result, error) {
	if art.Size > maxArtifactBytes {
		log.InfoContext(ctx, "test reports: artifact too large", "artifact", art.ID, "bytes", art.Size)
		return nil, nil
	}
	data, err := gh.DownloadArtifact(ctx, r.Owner, r.Name, art.ID, maxArtifactBytes)
	switch kind := github.Classify(err); {
	case err == nil:
	case errors.Is(err, github.ErrArtifactTooLarge), kind == github.KindNotFound, kind == github.KindValidation:
		log.InfoContext(ctx, "test reports: artifact not read", "artifact", art.ID, "err", err)
		return nil, nil
	default:
		return nil, err
	}
	results, err := parseArchive(data)
	if err != nil {
		log.InfoContext(ctx, "test reports: artifact not read", "artifact", art.ID, "err", err)
	}
	return results, nil
}

// parseArchive reads the go test -json (.json, .jsonl) and JUnit (.xml)
// reports of a zip archive, within bounds.
func parseArchive(data []byte) ([]testsel.Result, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("not a zip archive: %w", err)
	}
	var out []testsel.Result
	var total int64
	read := 0
	for _, f := range zr.File {
		ext := strings.ToLower(path.Ext(f.Name))
		if f.FileInfo().IsDir() || (ext != ".json" && ext != ".jsonl" && ext != ".xml") {
			continue
		}
		if read++; read > maxEntries {
			break
		}
		rc, err := f.Open()
		if err != nil {
			continue
		}
		// What is read counts, not what the archive's headers claim.
		body := &counting{r: io.LimitReader(rc, min(maxEntryBytes, maxArtifactTotal-total)+1)}
		var got []testsel.Result
		if ext == ".xml" {
			got, err = testsel.ParseJUnit(body)
		} else {
			got, err = testsel.ParseGoTestJSON(body)
		}
		rc.Close()
		total += body.n
		if err == nil {
			out = append(out, got...)
		}
		if total > maxArtifactTotal || len(out) > maxResults {
			break
		}
	}
	return out[:min(len(out), maxResults)], nil
}

// counting counts the bytes read through it.
type counting struct {
	r io.Reader
	n int64
}

func (c *counting) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
