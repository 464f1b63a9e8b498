package llm_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/ferry-ci/ferry/internal/llm"
	"github.com/ferry-ci/ferry/internal/llmtest"
)

// TestAsk_Retries: rate limits, server errors and network failures are
// retried with backoff or the server's Retry-After (capped); other
// answers and timeouts are not. Waits are recorded, not taken.
func TestAsk_Retries(t *testing.T) {
	type waits func(t *testing.T, got []time.Duration)
	exactly := func(want ...time.Duration) waits {
		return func(t *testing.T, got []time.Duration) {
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("waits (-want +got):\n%s", d)
			}
		}
	}
	backoff := func(n int) waits { // attempt i waits between half and all of 500ms·2^i
		return func(t *testing.T, got []time.Duration) {
			if len(got) != n {
				t.Fatalf("waits %v, want %d", got, n)
			}
			for i, d := range got {
				if full := 500 * time.Millisecond << i; d < full/2 || d > full {
					t.Errorf("wait %d is %s, want %s–%s", i, d, full/2, full)
				}
			}
		}
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, tc := range []struct {
		name       string
		cfg        func(*llm.Config)
		replies    []llmtest.Reply
		wantStatus int   // 0: success unless wantErr
		wantErr    error // errors.Is
		wantCalls  int
		waits      waits
	}{
		{name: "429 with Retry-After seconds", replies: []llmtest.Reply{{Status: 429, RetryAfter: "1"}, {Content: "ok"}},
			wantCalls: 2, waits: exactly(time.Second)},
		{name: "429 with Retry-After date", replies: []llmtest.Reply{{Status: 429, RetryAfter: now.Add(2 * time.Second).Format(http.TimeFormat)}, {Content: "ok"}},
			wantCalls: 2, waits: exactly(2 * time.Second)},
		{name: "Retry-After capped", replies: []llmtest.Reply{{Status: 429, RetryAfter: "3600"}, {Content: "ok"}},
			wantCalls: 2, waits: exactly(time.Minute)},
		{name: "503 then success: backoff", replies: []llmtest.Reply{{Status: 503}, {Content: "ok"}}, wantCalls: 2, waits: backoff(1)},
		{name: "500 past the retries", cfg: func(c *llm.Config) { c.Retries = 2 },
			replies:    []llmtest.Reply{{Status: 500}, {Status: 500}, {Status: 500}, {Status: 500}},
			wantStatus: 500, wantCalls: 3, waits: backoff(2)},
		{name: "no retries", cfg: func(c *llm.Config) { c.Retries = -1 }, replies: []llmtest.Reply{{Status: 502}},
			wantStatus: 502, wantCalls: 1, waits: exactly()},
		{name: "non-JSON error body", replies: []llmtest.Reply{{Status: 502, Body: "<html>bad gateway</html>"}, {Content: "ok"}},
			wantCalls: 2, waits: backoff(1)},
		{name: "401 not retried", replies: []llmtest.Reply{{Status: 401}}, wantStatus: 401, wantCalls: 1, waits: exactly()},
		{name: "network failure retried", cfg: func(c *llm.Config) { c.URL = closed.URL + "/v1" },
			wantErr: errNetwork, waits: backoff(3)},
		{name: "slower than the timeout: not retried", cfg: func(c *llm.Config) { c.Timeout = 100 * time.Millisecond },
			replies: []llmtest.Reply{{Delay: 10 * time.Second}}, wantErr: context.DeadlineExceeded, wantCalls: 1, waits: exactly()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.cfg)
			w.srv.Script(tc.replies...)
			a, err := w.client.Ask(context.Background(), ask())
			switch {
			case tc.wantErr == errNetwork:
				if err == nil || statusOf(err) != 0 {
					t.Fatalf("error %v, want a network failure", err)
				}
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			case tc.wantStatus != 0 && statusOf(err) != tc.wantStatus:
				t.Fatalf("error %v, want status %d", err, tc.wantStatus)
			case tc.wantErr == nil && tc.wantStatus == 0 && (err != nil || a.Text != "ok"):
				t.Fatalf("answer %q, %v", a.Text, err)
			}
			if n := len(w.srv.Calls()); n != tc.wantCalls {
				t.Errorf("%d calls, want %d", n, tc.wantCalls)
			}
			tc.waits(t, w.sleeps.waits())
		})
	}
}

var errNetwork = errors.New("a network failure")

// statusOf is the HTTP status of an error answer, 0 for none.
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

// TestAsk_CancelledWhileWaiting: a cancelled context ends the wait for a
// retry at once, and a wait that would outlast the deadline is not begun.
func TestAsk_CancelledWhileWaiting(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		wantErr func(error) bool
	}{
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, func(err error) bool { return errors.Is(err, context.Canceled) }},
		{"deadline sooner than Retry-After", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Second)
		}, func(err error) bool { return statusOf(err) == 429 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, func(c *llm.Config) { c.Sleep = nil }) // real waits
			w.srv.Script(llmtest.Reply{Status: 429, RetryAfter: "30"})
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			_, err := w.client.Ask(ctx, ask())
			if !tc.wantErr(err) {
				t.Fatalf("error %v", err)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("returned after %s", took)
			}
			if n := len(w.srv.Calls()); n != 1 {
				t.Errorf("%d calls, want 1", n)
			}
		})
	}
}

// TestAsk_Logs: what a call cost is logged; the API key, the prompt and
// the answer never are, and an endpoint echoing the key in an error does
// not put it in the error either.
func TestAsk_Logs(t *testing.T) {
	w := newWorld(t, nil)
	echo := `{"error":{"message":"Incorrect API key provided: ` + apiKey + `","type":"invalid_request_error","code":"invalid_api_key"}}`
	w.srv.Script(llmtest.Reply{Content: "the secret answer", PromptTokens: 33, CompletionTokens: 4},
		llmtest.Reply{Status: 500, Body: echo}, llmtest.Reply{Status: 401, Body: echo})
	ctx := context.Background()
	if _, err := w.client.Ask(ctx, ask()); err != nil {
		t.Fatal(err)
	}
	req := ask()
	req.Task = "Another question."
	_, err := w.client.Ask(ctx, req)
	if statusOf(err) != 401 || strings.Contains(err.Error(), apiKey) {
		t.Fatalf("error %v: want a 401 without the key", err)
	}
	logs := w.logs.String()
	for _, secret := range []string{apiKey, "the secret answer", req.Data[0].Text, req.Instructions, req.Task} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
	for _, want := range []string{`"model":"strong-model"`, `"feature":"testgen"`, `"prompt_tokens":33`, `"completion_tokens":4`, `"cached":false`, `"duration"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
}
