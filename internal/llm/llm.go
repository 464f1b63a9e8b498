// Package llm is ferry's one door to a language model: any
// OpenAI-compatible endpoint through go-openai. It sends ferry's own
// instructions apart from repository content (always fenced as data),
// keeps each installation inside its daily token budget, answers a
// repeated question from the store's cache, asks for structured answers
// and validates them, and retries what is safe to retry. Without an
// endpoint, Disabled answers ErrDisabled and every feature goes on
// without the model. Nothing a model answers is trusted: callers check
// it against what they know (the diff, the build) before using it.
package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Tier names how capable (and costly) a model a call needs.
type Tier string

// Tiers: Fast for summaries and classification, Strong for code.
const (
	Fast   Tier = "fast"
	Strong Tier = "strong"
)

// Section is content ferry did not write (a diff, a file, a title). It
// reaches the model only inside a fenced data section, never as
// instructions.
type Section struct {
	Name string
	Text string
}

// Schema asks for a structured answer: a JSON Schema the answer must
// satisfy (sent as a json_schema response format where the endpoint
// supports it; always validated here).
type Schema struct {
	Name string
	JSON json.RawMessage
}

// Request is one question to the model.
type Request struct {
	Installation int64  // whose budget pays
	Feature      string // what for: "testgen", "second-opinion", "highlights" …
	Tier         Tier
	Instructions string    // ferry's own words (system message)
	Data         []Section // untrusted content, fenced
	Task         string    // ferry's own words: what to answer
	Schema       *Schema   // nil: a text answer
	// Check validates a structured answer beyond its schema (files that
	// exist in the diff, names that parse). An answer that fails is
	// retried once with the error, then dropped (ErrInvalid).
	Check     func(answer []byte) error
	MaxTokens int   // completion tokens; 0: the client's default
	Budget    int64 // the policy's daily tokens for the installation; 0: the server's cap
}

// Usage is what one call cost, as recorded in the store.
type Usage struct {
	Installation     int64
	Feature          string
	Model            string
	PromptTokens     int
	CompletionTokens int
	Cached           bool
	At               time.Time
}

// Answer is the model's answer.
type Answer struct {
	Text   string // the answer; JSON when the request had a schema
	Model  string
	Usage  Usage
	Cached bool
}

// Errors a caller tells apart.
var (
	ErrDisabled = errors.New("llm: no model configured")
	ErrBudget   = errors.New("llm: daily token budget spent")
	ErrInvalid  = errors.New("llm: the answer was not valid")
)

// Disabled is the model when none is configured.
type Disabled struct{}

// Ask answers ErrDisabled.
func (Disabled) Ask(context.Context, Request) (Answer, error) { return Answer{}, ErrDisabled }

// Enabled is false.
func (Disabled) Enabled() bool { return false }

// Model names no model.
func (Disabled) Model(Tier) string { return "" }

// Asker is what AskFor needs of a model: the Client, Disabled, or a
// test's.
type Asker interface {
	Ask(ctx context.Context, r Request) (Answer, error)
}

// AskFor asks m for a structured answer and reads it with parse, which is
// also the request's Check: an answer parse refuses is retried once with
// its error, then dropped. The answer is parsed again here because a model
// other than the Client may not have checked it; it is the model's word
// until it has been (ErrInvalid when it fails).
func AskFor[T any](ctx context.Context, m Asker, req Request, parse func(answer []byte) (T, error)) (T, Answer, error) {
	req.Check = func(b []byte) error {
		_, err := parse(b)
		return err
	}
	var zero T
	ans, err := m.Ask(ctx, req)
	if err != nil {
		return zero, ans, err
	}
	v, err := parse([]byte(ans.Text))
	if err != nil {
		return zero, ans, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return v, ans, nil
}
