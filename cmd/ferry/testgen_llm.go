package main

import (
	"context"
	"sync"
	"time"

	"github.com/ferry-ci/ferry/internal/llm"
	"github.com/ferry-ci/ferry/internal/testgen"
)

// generator is what `ferry testgen` proposes candidates with: the model
// when --llm-url is set, else characterization tests and fuzz targets
// made from the code itself.
func (c *TestgenCmd) generator(e *env) (testgen.Generator, *runLedger, error) {
	if c.gen != nil {
		return c.gen(), nil, nil
	}
	log, err := e.cli.logger(e.stderr)
	if err != nil {
		return nil, nil, err
	}
	ledger := &runLedger{}
	model, err := c.LLMFlags.open(ledger, log)
	if err != nil {
		return nil, nil, err
	}
	if !model.Enabled() {
		return testgen.NoModel{}, nil, nil
	}
	ledger.model = model.Model(llm.Strong)
	return testgen.LLM{Model: model}, ledger, nil
}

// runLedger keeps one CLI run's model usage in memory: the daily budget
// applies to the run, and the cache to questions repeated within it (the
// server keeps both in its database).
type runLedger struct {
	mu     sync.Mutex
	model  string
	usage  []llm.Usage
	answer map[string]string
}

func (l *runLedger) TokensUsed(_ context.Context, _ int64, since time.Time) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, u := range l.usage {
		if !u.Cached && !u.At.Before(since) {
			n += int64(u.PromptTokens + u.CompletionTokens)
		}
	}
	return n, nil
}

func (l *runLedger) RecordUsage(_ context.Context, u llm.Usage) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.usage = append(l.usage, u)
	return nil
}

func (l *runLedger) CachedAnswer(_ context.Context, key string) (string, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.answer[key]
	return a, ok, nil
}

func (l *runLedger) CacheAnswer(_ context.Context, key, _, text string, _ time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.answer == nil {
		l.answer = map[string]string{}
	}
	l.answer[key] = text
	return nil
}

// spend is what the run's questions cost, for the report.
func (l *runLedger) spend() *testgen.LLMSpend {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := &testgen.LLMSpend{Model: l.model}
	for _, u := range l.usage {
		s.Calls++
		if u.Cached {
			s.Cached++
		}
		s.PromptTokens += u.PromptTokens
		s.CompletionTokens += u.CompletionTokens
	}
	return s
}
