package main

import (
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
	llm.Memory
	model string
}

// spend is what the run's questions cost, for the report.
func (l *runLedger) spend() *testgen.LLMSpend {
	if l == nil {
		return nil
	}
	s := &testgen.LLMSpend{Model: l.model}
	for _, u := range l.Recorded() {
		s.Calls++
		if u.Cached {
			s.Cached++
		}
		s.PromptTokens += u.PromptTokens
		s.CompletionTokens += u.CompletionTokens
	}
	return s
}
