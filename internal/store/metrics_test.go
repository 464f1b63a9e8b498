package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/llm"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/store"
)

// TestDeployCensus: every deploy counts in one state; a hold that waits
// for a human is "held", one waiting its turn is "queued"; rollbacks are
// told apart by who decided them.
func TestDeployCensus(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedDeploys(t, db)
		got, err := db.DeployCensus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := store.DeployCensus{
			States: map[string]int{store.StateQueued: 2, store.StateRunning: 1, store.StateHeld: 2, store.StateSucceeded: 2,
				store.StateFailed: 1, store.StateRolledBack: 2, store.StateSuperseded: 1},
			Held: map[deploy.HoldCause]int{deploy.HoldQueue: 1, deploy.HoldPaused: 0, deploy.HoldFrozen: 0,
				deploy.HoldAnalysis: 1, deploy.HoldMigrations: 1},
			Rollbacks: map[string]int{store.RollbackAutomatic: 1, store.RollbackRequested: 2},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("census (-want +got):\n%s", d)
		}
		exposition := `
# HELP ferry_rollbacks_total Rollbacks recorded in the store, by cause (automatic, requested).
# TYPE ferry_rollbacks_total counter
ferry_rollbacks_total{cause="automatic"} 1
ferry_rollbacks_total{cause="requested"} 2
`
		c := store.NewDeployCollector(db)
		if err := testutil.CollectAndCompare(c, strings.NewReader(exposition), "ferry_rollbacks_total"); err != nil {
			t.Error(err)
		}
		if n := testutil.CollectAndCount(c, "ferry_deploys", "ferry_deploys_held"); n != 7+5 {
			t.Errorf("%d deploy series, want 12 (every state and cause, zeros too)", n)
		}
	})
}

// seedDeploys records one deploy in each of the ways a deploy can be.
func seedDeploys(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	type step func(id string) error
	start := func(id string) error { return db.StartDeploy(ctx, id, policy.Canary, "", nil, nil, at) }
	hold := func(c deploy.HoldCause) step {
		return func(id string) error { return db.HoldDeploy(ctx, id, c, "waits") }
	}
	finish := func(s deploy.Status, c deploy.EndCause) step {
		return func(id string) error { return db.FinishDeploy(ctx, id, s, c, "ended", at) }
	}
	for i, c := range []struct {
		kind  deploy.Kind
		steps []step
	}{
		{deploy.KindDeploy, nil},
		{deploy.KindDeploy, []step{hold(deploy.HoldQueue)}},
		{deploy.KindDeploy, []step{start}},
		{deploy.KindDeploy, []step{start, hold(deploy.HoldAnalysis)}},
		{deploy.KindDeploy, []step{start, hold(deploy.HoldMigrations)}},
		{deploy.KindDeploy, []step{start, finish(deploy.Succeeded, deploy.EndCompleted)}},
		{deploy.KindDeploy, []step{start, finish(deploy.Failed, deploy.EndStepFailed)}},
		{deploy.KindDeploy, []step{start, finish(deploy.Failed, deploy.EndRolledBackAuto)}},
		{deploy.KindDeploy, []step{start, hold(deploy.HoldMigrations), finish(deploy.Failed, deploy.EndRolledBackRequest)}},
		{deploy.KindRollback, []step{start, finish(deploy.Succeeded, deploy.EndCompleted)}},
		{deploy.KindDeploy, []step{finish(deploy.Superseded, deploy.EndNone)}},
	} {
		id := fmt.Sprint("d-", i)
		d := deploy.Deploy{ID: id, RepositoryID: 1, Repository: "acme/api", InstallationID: 7, Environment: "production",
			Kind: c.kind, SHA: "abc", Actor: "ferry", Strategy: policy.Canary, CreatedAt: at}
		if _, err := db.CreateDeploy(ctx, d, func(*sql.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		for _, s := range c.steps {
			if err := s(id); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestDeployCensus_Empty: a store without deploys still reports every
// series, at zero, so alerts have something to compare from the start.
func TestDeployCensus_Empty(t *testing.T) {
	db := dbtest.Open(t, dbtest.SQLiteURL(t))
	exposition := `
# HELP ferry_deploys_held Deploys not ended that wait, by cause (queue, paused, frozen, analysis, migrations), at scrape time; analysis and migrations wait for a human.
# TYPE ferry_deploys_held gauge
ferry_deploys_held{cause="analysis"} 0
ferry_deploys_held{cause="frozen"} 0
ferry_deploys_held{cause="migrations"} 0
ferry_deploys_held{cause="paused"} 0
ferry_deploys_held{cause="queue"} 0
`
	if err := testutil.CollectAndCompare(store.NewDeployCollector(db), strings.NewReader(exposition), "ferry_deploys_held"); err != nil {
		t.Error(err)
	}
}

// TestLLMCollector: what the model cost, summed over the rows every
// replica writes; cached answers are calls that spent no tokens.
func TestLLMCollector(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		for _, u := range []llm.Usage{
			{Installation: 1, Feature: "testgen", Model: "m", PromptTokens: 100, CompletionTokens: 20, At: at},
			{Installation: 2, Feature: "testgen", Model: "m", PromptTokens: 50, CompletionTokens: 5, At: at},
			{Installation: 2, Feature: "testgen", Model: "m", Cached: true, At: at},
		} {
			if err := db.RecordUsage(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		want := `
# HELP ferry_llm_calls_total Questions ferry asked its language model, by feature, model and whether the cache answered.
# TYPE ferry_llm_calls_total counter
ferry_llm_calls_total{cached="false",feature="testgen",model="m"} 2
ferry_llm_calls_total{cached="true",feature="testgen",model="m"} 1
# HELP ferry_llm_tokens_total Tokens ferry's language model spent, by feature, model and kind (prompt, completion); answers from the cache spend none.
# TYPE ferry_llm_tokens_total counter
ferry_llm_tokens_total{feature="testgen",kind="completion",model="m"} 25
ferry_llm_tokens_total{feature="testgen",kind="prompt",model="m"} 150
`
		if err := testutil.CollectAndCompare(store.NewLLMCollector(db), strings.NewReader(want)); err != nil {
			t.Fatal(err)
		}
	})
}
