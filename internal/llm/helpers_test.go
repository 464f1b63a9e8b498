package llm_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/llm"
	"github.com/ferry-ci/ferry/internal/llmtest"
)

// ledger is the in-memory ledger, as tests read it.
type ledger struct{ llm.Memory }

func newLedger() *ledger { return &ledger{} }

func (l *ledger) recorded() []llm.Usage { return l.Recorded() }

// sleeps records the waits between retries without taking them.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func (s *sleeps) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// now is the tests' clock: mid-morning, so today began hours ago.
var now = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

const apiKey = "sk-test-SECRET-0123456789"

// world is a client talking to a test endpoint.
type world struct {
	srv    *llmtest.Server
	ledger *ledger
	sleeps *sleeps
	logs   *bytes.Buffer
	client *llm.Client
}

// newWorld makes a client for a fresh endpoint; mod adjusts its config.
func newWorld(t testing.TB, mod func(*llm.Config)) *world {
	t.Helper()
	w := &world{srv: llmtest.New(t), ledger: newLedger(), sleeps: &sleeps{}, logs: &bytes.Buffer{}}
	cfg := llm.Config{URL: w.srv.URL(), APIKey: apiKey, Model: "strong-model", ModelFast: "fast-model", DailyTokens: 100000,
		Clock: func() time.Time { return now }, Sleep: w.sleeps.sleep,
		Log: slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if mod != nil {
		mod(&cfg)
	}
	c, err := llm.New(cfg, w.ledger)
	if err != nil {
		t.Fatal(err)
	}
	w.client = c
	return w
}

// schema is a small structured answer: the files a test covers.
var schema = &llm.Schema{Name: "targets", JSON: []byte(`{"type":"object","properties":{"files":{"type":"array","items":{"type":"string"}}},` +
	`"required":["files"],"additionalProperties":false}`)}

// ask is a request every test starts from.
func ask() llm.Request {
	return llm.Request{Installation: 7, Feature: "testgen", Tier: llm.Strong, Instructions: "You write Go tests.",
		Data: []llm.Section{{Name: "diff", Text: "+func Add(a, b int) int { return a + b }"}}, Task: "Name the files to test."}
}

func structured() llm.Request {
	r := ask()
	r.Schema = schema
	return r
}
