package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Retry waits: exponential from backoffBase up to backoffCap; a server's
// Retry-After is honoured up to maxRetryAfter.
const (
	backoffBase   = 500 * time.Millisecond
	backoffCap    = 30 * time.Second
	maxRetryAfter = 60 * time.Second
)

// spent is what the HTTP calls of one question cost.
type spent struct {
	PromptTokens, CompletionTokens int
	calls                          int
}

// converse asks q and, for a structured request, validates the answer;
// an invalid one is asked again once with what was wrong.
func (c *Client) converse(ctx context.Context, req Request, q question) (string, spent, error) {
	var sp spent
	if req.Schema == nil {
		text, err := c.send(ctx, req, q, q.messages, &sp)
		return text, sp, err
	}
	schema, err := c.compile(req.Schema)
	if err != nil {
		return "", sp, fmt.Errorf("llm %s: %w", req.Feature, err)
	}
	text, err := c.send(ctx, req, q, q.messages, &sp)
	if err != nil {
		return "", sp, err
	}
	answer, problem := checkAnswer(text, schema, req.Check)
	if problem == nil {
		return answer, sp, nil
	}
	messages := append(slices.Clone(q.messages),
		openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: text},
		openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser,
			Content: "That answer is not valid: " + problem.Error() + "\nAnswer the TASK again with only JSON that satisfies the schema."})
	if text, err = c.send(ctx, req, q, messages, &sp); err != nil {
		return "", sp, err
	}
	if answer, problem = checkAnswer(text, schema, req.Check); problem != nil {
		return "", sp, fmt.Errorf("llm %s: asked twice: %w: %v", req.Feature, ErrInvalid, problem)
	}
	return answer, sp, nil
}

// send makes one request (with its retries). A structured request asks
// for a json_schema response format until the endpoint refuses one; then
// the schema goes into the task instead, for this and every later request.
func (c *Client) send(ctx context.Context, req Request, q question, messages []openai.ChatCompletionMessage, sp *spent) (string, error) {
	r := openai.ChatCompletionRequest{Model: q.model, Messages: messages, MaxCompletionTokens: q.maxTokens}
	if req.Schema == nil {
		return c.complete(ctx, r, sp)
	}
	if !c.noSchema.Load() {
		r.ResponseFormat = &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{Name: schemaName(req.Schema.Name), Schema: req.Schema.JSON, Strict: true}}
		text, err := c.complete(ctx, r, sp)
		if !refusedFormat(err) {
			return text, err
		}
		r.ResponseFormat = nil
		r.Messages = withSchemaNote(messages, req.Schema)
		// Remembered only when the plain request works: a 400 the plain
		// request gets too was about something else.
		if text, err = c.complete(ctx, r, sp); err == nil && !c.noSchema.Swap(true) {
			c.cfg.Log.InfoContext(ctx, "llm endpoint refuses json_schema response formats; schemas go in the task", "model", q.model)
		}
		return text, err
	}
	r.Messages = withSchemaNote(messages, req.Schema)
	return c.complete(ctx, r, sp)
}

// withSchemaNote copies messages, adding the schema to the task (the
// first user message).
func withSchemaNote(messages []openai.ChatCompletionMessage, schema *Schema) []openai.ChatCompletionMessage {
	out := slices.Clone(messages)
	for i := range out {
		if out[i].Role == openai.ChatMessageRoleUser {
			out[i].Content += schemaNote(schema)
			break
		}
	}
	return out
}

var badNameRune = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// schemaName is a name OpenAI accepts for a response format.
func schemaName(name string) string {
	name = badNameRune.ReplaceAllString(name, "_")
	if name == "" {
		return "answer"
	}
	return name[:min(len(name), 64)]
}

// complete makes one request, retrying a rate limit, a server error or a
// network failure with backoff (or the server's Retry-After).
func (c *Client) complete(ctx context.Context, r openai.ChatCompletionRequest, sp *spent) (string, error) {
	for attempt := 0; ; attempt++ {
		text, retryAfter, err := c.once(ctx, r, sp)
		if err == nil {
			return text, nil
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("ask %s: %w", r.Model, ctx.Err())
		}
		wait, retry := c.retryWait(err, retryAfter, attempt)
		if !retry {
			return "", fmt.Errorf("ask %s: %w", r.Model, err)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return "", fmt.Errorf("ask %s: no time left to wait %s for a retry: %w", r.Model, wait, err)
		}
		c.cfg.Log.DebugContext(ctx, "llm call retried", "model", r.Model, "attempt", attempt+1, "wait", wait, "error", c.redact(err).Error())
		if err := c.cfg.Sleep(ctx, wait); err != nil {
			return "", fmt.Errorf("ask %s: waiting to retry: %w", r.Model, err)
		}
	}
}

// once makes one HTTP call within the per-call timeout, adding what it
// cost to sp. It returns the server's Retry-After, if any.
func (c *Client) once(ctx context.Context, r openai.ChatCompletionRequest, sp *spent) (string, time.Duration, error) {
	callCtx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	h := &hint{}
	resp, err := c.api.CreateChatCompletion(context.WithValue(callCtx, hintKey{}, h), r)
	if err != nil {
		if ctx.Err() == nil && errors.Is(callCtx.Err(), context.DeadlineExceeded) {
			return "", 0, fmt.Errorf("no answer within %s: %w", c.cfg.Timeout, err)
		}
		return "", retryAfter(h.retryAfter, c.cfg.Clock()), err
	}
	sp.calls++
	sp.PromptTokens += resp.Usage.PromptTokens
	sp.CompletionTokens += resp.Usage.CompletionTokens
	if len(resp.Choices) == 0 {
		return "", 0, errors.New("the endpoint answered no choices")
	}
	return resp.Choices[0].Message.Content, 0, nil
}

// retryWait says whether err is worth retrying after attempt (counted
// from 0) and how long to wait first. A timeout is not retried: a model
// that did not answer in time will rarely answer faster on a second try.
func (c *Client) retryWait(err error, retryAfter time.Duration, attempt int) (time.Duration, bool) {
	if attempt >= c.cfg.Retries || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return 0, false
	}
	status := statusOf(err)
	switch {
	case status == http.StatusTooManyRequests, status >= 500:
	case status != 0:
		return 0, false
	case !networkError(err):
		return 0, false
	}
	if retryAfter > 0 {
		return min(retryAfter, maxRetryAfter), true
	}
	d := min(backoffBase<<attempt, backoffCap)
	return d/2 + rand.N(d/2+1), true // jitter: replicas rate-limited together do not retry together
}

// statusOf is the HTTP status of an error answer; 0 when none arrived.
func statusOf(err error) int {
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		return apiErr.HTTPStatusCode
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) {
		return reqErr.HTTPStatusCode
	}
	return 0
}

// networkError is a failure to reach the endpoint or read its answer.
func networkError(err error) bool {
	var urlErr *url.Error
	var netErr net.Error
	return errors.As(err, &urlErr) || errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF)
}

// refusedFormat is the endpoint rejecting the request as sent — with a
// json_schema response format, most likely that format (422 from some
// OpenAI-compatible servers that validate requests strictly).
func refusedFormat(err error) bool {
	s := statusOf(err)
	return s == http.StatusBadRequest || s == http.StatusUnprocessableEntity
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(n)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// hint carries what the transport saw of a response that go-openai does
// not expose on errors: its Retry-After header.
type hint struct{ retryAfter string }

type hintKey struct{}

// hintTransport records Retry-After into the hint in the request's context.
type hintTransport struct{ base http.RoundTripper }

// RoundTrip sends r through the base transport.
func (t hintTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(r)
	if h, ok := r.Context().Value(hintKey{}).(*hint); ok && resp != nil {
		h.retryAfter = resp.Header.Get("Retry-After")
	}
	return resp, err
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
