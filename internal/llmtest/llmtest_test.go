package llmtest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/llmtest"
)

// TestWireFormat: answers and errors have OpenAI's shape; scripted
// replies come first, then the responder; every call is kept.
func TestWireFormat(t *testing.T) {
	srv := llmtest.New(t)
	srv.Script(llmtest.Reply{Content: "first", PromptTokens: 3, CompletionTokens: 2}, llmtest.Reply{Status: 429, RetryAfter: "2"})
	srv.Respond(func(c llmtest.Call) llmtest.Reply { return llmtest.Reply{Content: "echo " + c.Messages[0].Content} })
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":9,` +
		`"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"},"strict":true}}}`
	for _, tc := range []struct {
		status     int
		retryAfter string
		want       string
	}{
		{200, "", `{"choices":[{"finish_reason":"stop","index":0,"message":{"content":"first","role":"assistant"}}],` +
			`"model":"m","object":"chat.completion","usage":{"completion_tokens":2,"prompt_tokens":3,"total_tokens":5}}`},
		{429, "2", `{"error":{"code":null,"message":"Too Many Requests","type":"rate_limit_exceeded"}}`},
		{200, "", `{"choices":[{"finish_reason":"stop","index":0,"message":{"content":"echo hi","role":"assistant"}}],` +
			`"model":"m","object":"chat.completion","usage":{"completion_tokens":2,"prompt_tokens":4,"total_tokens":6}}`},
	} {
		resp, err := http.Post(srv.URL()+"/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tc.status || resp.Header.Get("Retry-After") != tc.retryAfter {
			t.Fatalf("%d %q %v", resp.StatusCode, resp.Header.Get("Retry-After"), err)
		}
		if got["id"] == nil && tc.status == 200 || got["created"] == nil && tc.status == 200 {
			t.Errorf("no id or created: %v", got)
		}
		delete(got, "id")
		delete(got, "created")
		var want map[string]any
		if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("body (-want +got):\n%s", d)
		}
	}
	calls := srv.Calls()
	want := llmtest.Call{Model: "m", Messages: []llmtest.Message{{Role: "user", Content: "hi"}}, ResponseFormat: "json_schema",
		Schema: json.RawMessage(`{"type":"object"}`), MaxTokens: 9}
	if len(calls) != 3 || !cmp.Equal(want, calls[0]) {
		t.Errorf("calls %+v", calls)
	}
	srv.RefuseSchema(true)
	resp, err := http.Post(srv.URL()+"/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("refused schema: %d", resp.StatusCode)
	}
}
