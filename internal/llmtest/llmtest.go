// Package llmtest is an OpenAI-compatible endpoint for tests: an
// httptest server speaking the wire format of POST /v1/chat/completions,
// answering scripted replies in order, then a responder, and keeping every
// request it received. It can rate-limit, fail, stall, and refuse
// json_schema response formats as real endpoints do.
package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one message of a request.
type Message struct {
	Role    string
	Content string
}

// Call is one request the server received, decoded.
type Call struct {
	Model          string
	Messages       []Message
	ResponseFormat string          // the response format's type ("json_schema", …); "" when absent
	Schema         json.RawMessage // the json_schema's schema, when sent
	MaxTokens      int             // max_completion_tokens, or max_tokens
	APIKey         string          // the bearer token
}

// Reply is how the server answers one call.
type Reply struct {
	Content          string
	PromptTokens     int // default: about a token per four characters of the messages
	CompletionTokens int // default: about a token per four characters of Content
	Status           int // 0: 200
	RetryAfter       string
	Delay            time.Duration // before answering (the request's cancellation ends it)
	Body             string        // a raw error body; default an OpenAI error object
}

// Server is the test endpoint.
type Server struct {
	srv *httptest.Server

	mu           sync.Mutex
	script       []Reply
	respond      func(Call) Reply
	calls        []Call
	refuseSchema bool
}

// New starts a server, closed when t ends. Without a script or a
// responder it answers "ok".
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{respond: func(Call) Reply { return Reply{Content: "ok"} }}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.complete)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, Reply{Status: http.StatusNotFound}, "unknown path", "invalid_request_error", "unknown_url")
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the base URL a client is configured with.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Script queues replies, served in order before the responder.
func (s *Server) Script(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, replies...)
}

// Respond answers calls the script does not.
func (s *Server) Respond(fn func(Call) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respond = fn
}

// RefuseSchema makes the server answer 400 to a json_schema response
// format, as endpoints without structured outputs do.
func (s *Server) RefuseSchema(refuse bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseSchema = refuse
}

// Calls is every request received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// wireRequest is the part of a chat completion request the server reads.
type wireRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	MaxTokens           int `json:"max_tokens"`
	MaxCompletionTokens int `json:"max_completion_tokens"`
	ResponseFormat      *struct {
		Type       string `json:"type"`
		JSONSchema *struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	} `json:"response_format"`
}

func (s *Server) complete(w http.ResponseWriter, r *http.Request) {
	var in wireRequest
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, Reply{Status: http.StatusBadRequest}, "request body is not JSON: "+err.Error(), "invalid_request_error", "")
		return
	}
	call := decode(in, r)
	reply, refused := s.next(call)
	if refused {
		writeError(w, Reply{Status: http.StatusBadRequest}, "response_format json_schema is not supported by this model",
			"invalid_request_error", "unsupported_response_format")
		return
	}
	if reply.Delay > 0 {
		select {
		case <-time.After(reply.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if reply.RetryAfter != "" {
		w.Header().Set("Retry-After", reply.RetryAfter)
	}
	if reply.Status != 0 && reply.Status != http.StatusOK {
		writeError(w, reply, http.StatusText(reply.Status), errorType(reply.Status), "")
		return
	}
	writeAnswer(w, call, reply)
}

func decode(in wireRequest, r *http.Request) Call {
	call := Call{Model: in.Model, MaxTokens: max(in.MaxCompletionTokens, in.MaxTokens),
		APIKey: strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")}
	for _, m := range in.Messages {
		call.Messages = append(call.Messages, Message{Role: m.Role, Content: m.Content})
	}
	if in.ResponseFormat != nil {
		call.ResponseFormat = in.ResponseFormat.Type
		if in.ResponseFormat.JSONSchema != nil {
			call.Schema = in.ResponseFormat.JSONSchema.Schema
		}
	}
	return call
}

// next records call and picks its reply; refused when the call asks for
// a json_schema format the server refuses (the script is kept for the
// retry without it).
func (s *Server) next(call Call) (Reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call)
	if s.refuseSchema && call.ResponseFormat == "json_schema" {
		return Reply{}, true
	}
	if len(s.script) > 0 {
		r := s.script[0]
		s.script = s.script[1:]
		return r, false
	}
	return s.respond(call), false
}

func writeAnswer(w http.ResponseWriter, call Call, reply Reply) {
	prompt, completion := reply.PromptTokens, reply.CompletionTokens
	if prompt == 0 {
		for _, m := range call.Messages {
			prompt += len(m.Content)/4 + 4 // and a few for the role
		}
	}
	if completion == 0 {
		completion = len(reply.Content)/4 + 1
	}
	body := map[string]any{
		"id":      fmt.Sprintf("chatcmpl-%d", time.Now().UnixNano()),
		"object":  "chat.completion",
		"created": time.Now().Unix(),
		"model":   call.Model,
		"choices": []map[string]any{{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": reply.Content},
			"finish_reason": "stop",
		}},
		"usage": map[string]any{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func writeError(w http.ResponseWriter, reply Reply, message, typ, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(reply.Status)
	if reply.Body != "" {
		_, _ = w.Write([]byte(reply.Body))
		return
	}
	var c any // OpenAI sends null when there is no code
	if code != "" {
		c = code
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": message, "type": typ, "code": c}})
}

func errorType(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "rate_limit_exceeded"
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}
