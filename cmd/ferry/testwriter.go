package main

import (
	"log/slog"

	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/store"
	"github.com/ferry-ci/ferry/internal/testagent"
	"github.com/ferry-ci/ferry/internal/testgen"
)

// testWriter is the test agent's writer of generated-test pull requests.
// On the server its generators run no code: the model's tests
// (testgen.LLM) where a model is configured, else fuzz targets; CI runs
// them, never ferry.
func testWriter(log *slog.Logger, db *store.DB, gh *github.App, cache *git.Cache, model llmModel, appID int64) (*testagent.Writer, error) {
	deps := testagent.WriterDeps{
		GitHub: func(id int64) testagent.WriterGitHub { return gh.Installation(id) },
		CI:     func(id int64) testagent.WriterCI { return gh.Installation(id) },
		Git:    cache, Tests: db, Risks: db, Audit: db,
		Generator: func(installation int64, m testgen.Model) testgen.Generator {
			if m == nil {
				return testgen.Fuzz{}
			}
			return testgen.LLM{Model: m, Installation: installation}
		},
	}
	if model != nil && model.Enabled() {
		deps.Model = model
	}
	return testagent.NewWriter(testagent.WriterConfig{Logger: log, AppID: appID}, deps)
}
