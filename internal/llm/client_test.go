package llm_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/ferry-ci/ferry/internal/llm"
	"github.com/ferry-ci/ferry/internal/llmtest"
)

// TestNew: a client needs an http(s) URL and a model; the fast tier
// falls back to the model.
func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     llm.Config
		wantErr string
	}{
		{"ok", llm.Config{URL: "https://api.example.com/v1", Model: "m"}, ""},
		{"no url", llm.Config{Model: "m"}, "http(s)"},
		{"not http", llm.Config{URL: "ftp://example.com", Model: "m"}, "http(s)"},
		{"no host", llm.Config{URL: "http://", Model: "m"}, "http(s)"},
		{"password redacted", llm.Config{URL: "ftp://u:hunter2@example.com", Model: "m"}, "xxxxx"},
		{"no model", llm.Config{URL: "http://localhost:1/v1"}, "model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := llm.New(tc.cfg, newLedger())
			if tc.wantErr == "" {
				if err != nil || !c.Enabled() || c.Model(llm.Fast) != "m" || c.Model(llm.Strong) != "m" {
					t.Fatalf("%v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
			}
		})
	}
}

// askCase is one question and what should come of it.
type askCase struct {
	name       string
	cfg        func(*llm.Config)
	setup      func(w *world)
	req        func() llm.Request
	wantErr    error  // errors.Is
	wantStatus int    // the error is an HTTP error answer with this status
	wantText   string // when no error
	wantCalls  int
	check      func(t *testing.T, w *world, a llm.Answer)
}

// TestAsk runs the real go-openai client against the test endpoint.
func TestAsk(t *testing.T) {
	valid := `{"files":["add.go"]}`
	cases := []askCase{{
		name: "text answer, tokens recorded",
		setup: func(w *world) {
			w.srv.Script(llmtest.Reply{Content: "Add adds.", PromptTokens: 120, CompletionTokens: 7})
		},
		req: ask, wantText: "Add adds.", wantCalls: 1,
		check: func(t *testing.T, w *world, a llm.Answer) {
			want := []llm.Usage{{Installation: 7, Feature: "testgen", Model: "strong-model", PromptTokens: 120, CompletionTokens: 7, At: now}}
			if d := cmp.Diff(want, w.ledger.recorded()); d != "" {
				t.Errorf("usage (-want +got):\n%s", d)
			}
			if d := cmp.Diff(want[0], a.Usage); d != "" || a.Model != "strong-model" || a.Cached {
				t.Errorf("answer %+v: %s", a, d)
			}
			c := w.srv.Calls()[0]
			if c.Model != "strong-model" || c.ResponseFormat != "" || c.APIKey != apiKey || c.MaxTokens != 0 {
				t.Errorf("call %+v", c)
			}
		},
	}, {
		name: "fast tier, fast model, max tokens",
		req: func() llm.Request {
			r := ask()
			r.Tier, r.MaxTokens = llm.Fast, 300
			return r
		},
		wantText: "ok", wantCalls: 1,
		check: func(t *testing.T, w *world, a llm.Answer) {
			if c := w.srv.Calls()[0]; c.Model != "fast-model" || a.Model != "fast-model" || c.MaxTokens != 300 {
				t.Errorf("call %+v, answer %+v", c, a)
			}
		},
	}, {
		name:  "structured answer valid at once",
		setup: func(w *world) { w.srv.Script(llmtest.Reply{Content: valid}) },
		req:   structured, wantText: valid, wantCalls: 1,
		check: func(t *testing.T, w *world, _ llm.Answer) {
			if c := w.srv.Calls()[0]; c.ResponseFormat != "json_schema" || string(c.Schema) != string(schema.JSON) {
				t.Errorf("response format %q, schema %s", c.ResponseFormat, c.Schema)
			}
		},
	}, {
		name: "malformed, then valid in a fence",
		setup: func(w *world) {
			w.srv.Script(llmtest.Reply{Content: "Sure! files: add.go"}, llmtest.Reply{Content: "```json\n" + valid + "\n```"})
		},
		req: structured, wantText: valid, wantCalls: 2,
		check: func(t *testing.T, w *world, _ llm.Answer) {
			m := w.srv.Calls()[1].Messages
			if len(m) != 4 || m[2].Role != "assistant" || m[2].Content != "Sure! files: add.go" || m[3].Role != "user" ||
				!strings.Contains(m[3].Content, "not JSON") {
				t.Errorf("retry messages %+v", m)
			}
		},
	}, {
		name: "schema violated, then check refuses: invalid, not cached",
		setup: func(w *world) {
			w.srv.Script(llmtest.Reply{Content: `{"files":"add.go"}`, PromptTokens: 10, CompletionTokens: 2},
				llmtest.Reply{Content: `{"files":["nope.go"]}`, PromptTokens: 20, CompletionTokens: 3})
		},
		req: func() llm.Request {
			r := structured()
			r.Check = func(b []byte) error {
				if !strings.Contains(string(b), "add.go") {
					return errors.New("nope.go is not in the diff")
				}
				return nil
			}
			return r
		},
		wantErr: llm.ErrInvalid, wantCalls: 2,
		check: func(t *testing.T, w *world, _ llm.Answer) {
			if m := w.srv.Calls()[1].Messages; !strings.Contains(m[3].Content, "schema") {
				t.Errorf("retry says %q", m[3].Content)
			}
			if u := w.ledger.recorded(); len(u) != 1 || u[0].PromptTokens != 30 || u[0].CompletionTokens != 5 {
				t.Errorf("spent tokens count even on an invalid answer: %+v", u)
			}
			if n := w.ledger.CachedAnswers(); n != 0 {
				t.Errorf("cached an invalid answer: %d kept", n)
			}
		},
	}, {
		name: "endpoint refusing json_schema: schema in the task, remembered",
		setup: func(w *world) {
			w.srv.RefuseSchema(true)
			w.srv.Script(llmtest.Reply{Content: valid})
		},
		req: structured, wantText: valid, wantCalls: 2,
		check: func(t *testing.T, w *world, _ llm.Answer) {
			calls := w.srv.Calls()
			if calls[0].ResponseFormat != "json_schema" || calls[1].ResponseFormat != "" ||
				!strings.Contains(calls[1].Messages[1].Content, string(schema.JSON)) {
				t.Errorf("calls %+v", calls)
			}
			w.srv.Script(llmtest.Reply{Content: valid})
			r := structured()
			r.Task = "Another question."
			if _, err := w.client.Ask(context.Background(), r); err != nil || len(w.srv.Calls()) != 3 || w.srv.Calls()[2].ResponseFormat != "" {
				t.Errorf("second question: %v, %d calls", err, len(w.srv.Calls()))
			}
		},
	}, {
		name:  "400 for another reason: not retried, nothing remembered",
		setup: func(w *world) { w.srv.Script(llmtest.Reply{Status: 400}, llmtest.Reply{Status: 400}) },
		req:   structured, wantStatus: 400, wantCalls: 2,
		check: func(t *testing.T, w *world, _ llm.Answer) {
			w.srv.Script(llmtest.Reply{Content: valid})
			if _, err := w.client.Ask(context.Background(), structured()); err != nil || w.srv.Calls()[2].ResponseFormat != "json_schema" {
				t.Errorf("a 400 the plain request also got was taken for a refused format: %v", err)
			}
		},
	}, {
		name:    "budget spent: no call",
		setup:   func(w *world) { spend(w, 7, 100000, now.Add(-time.Hour)) },
		req:     ask,
		wantErr: llm.ErrBudget,
	}, {
		name:  "yesterday's tokens and other installations do not count",
		setup: func(w *world) { spend(w, 7, 100000, now.Add(-11*time.Hour)); spend(w, 8, 100000, now) },
		req:   ask, wantText: "ok", wantCalls: 1,
	}, {
		name:  "the policy's budget, lower than the server's cap",
		setup: func(w *world) { spend(w, 7, 500, now) },
		req: func() llm.Request {
			r := ask()
			r.Budget = 500
			return r
		},
		wantErr: llm.ErrBudget,
	}, {
		name:  "the server's cap, lower than the policy's budget",
		cfg:   func(c *llm.Config) { c.DailyTokens = 400 },
		setup: func(w *world) { spend(w, 7, 450, now) },
		req: func() llm.Request {
			r := ask()
			r.Budget = 500
			return r
		},
		wantErr: llm.ErrBudget,
	}, {
		name:  "no cap at all",
		cfg:   func(c *llm.Config) { c.DailyTokens = 0 },
		setup: func(w *world) { spend(w, 7, 1e9, now) },
		req:   ask, wantText: "ok", wantCalls: 1,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runAsk(t, tc) })
	}
}

func runAsk(t *testing.T, tc askCase) {
	t.Helper()
	w := newWorld(t, tc.cfg)
	if tc.setup != nil {
		tc.setup(w)
	}
	a, err := w.client.Ask(context.Background(), tc.req())
	var apiErr *openai.APIError
	switch {
	case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
		t.Fatalf("error %v, want %v", err, tc.wantErr)
	case tc.wantStatus != 0 && (!errors.As(err, &apiErr) || apiErr.HTTPStatusCode != tc.wantStatus):
		t.Fatalf("error %v, want an answer with status %d", err, tc.wantStatus)
	case tc.wantErr == nil && tc.wantStatus == 0 && err != nil:
		t.Fatal(err)
	case err == nil && a.Text != tc.wantText:
		t.Errorf("answer %q, want %q", a.Text, tc.wantText)
	}
	if n := len(w.srv.Calls()); n != tc.wantCalls {
		t.Errorf("%d calls, want %d", n, tc.wantCalls)
	}
	if tc.check != nil {
		tc.check(t, w, a)
	}
}

// spend records tokens an installation spent at a time.
func spend(w *world, installation, tokens int64, at time.Time) {
	_ = w.ledger.RecordUsage(context.Background(), llm.Usage{Installation: installation, Feature: "x", Model: "m",
		PromptTokens: int(tokens), At: at})
}

// TestAsk_Cache: the same question twice is answered once; the second is
// cached, recorded as such, and spends nothing of the budget.
func TestAsk_Cache(t *testing.T) {
	for _, req := range []func() llm.Request{ask, structured} {
		w := newWorld(t, nil)
		w.srv.Respond(func(llmtest.Call) llmtest.Reply {
			return llmtest.Reply{Content: `{"files":["add.go"]}`, PromptTokens: 40, CompletionTokens: 9}
		})
		ctx := context.Background()
		first, err := w.client.Ask(ctx, req())
		if err != nil {
			t.Fatal(err)
		}
		second, err := w.client.Ask(ctx, req())
		if err != nil {
			t.Fatal(err)
		}
		if !second.Cached || first.Cached || second.Text != first.Text || len(w.srv.Calls()) != 1 {
			t.Fatalf("first %+v, second %+v, %d calls", first, second, len(w.srv.Calls()))
		}
		want := []llm.Usage{
			{Installation: 7, Feature: "testgen", Model: "strong-model", PromptTokens: 40, CompletionTokens: 9, At: now},
			{Installation: 7, Feature: "testgen", Model: "strong-model", Cached: true, At: now},
		}
		if d := cmp.Diff(want, w.ledger.recorded()); d != "" {
			t.Errorf("usage (-want +got):\n%s", d)
		}
		if used, _ := w.ledger.TokensUsed(ctx, 7, now.Truncate(24*time.Hour)); used != 49 {
			t.Errorf("%d tokens used, want 49", used)
		}
		other := req()
		other.Tier = llm.Fast // another model: another question
		if a, err := w.client.Ask(ctx, other); err != nil || a.Cached {
			t.Errorf("another model's answer came from the cache: %+v %v", a, err)
		}
	}
}
