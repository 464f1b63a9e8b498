package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/llm"
)

// TestLLMFlags: the model is optional; once a URL is set it needs a
// model, and the key comes from a file or FERRY_LLM_API_KEY, never both.
func TestLLMFlags(t *testing.T) {
	dir := t.TempDir()
	keyFile, emptyFile := filepath.Join(dir, "key"), filepath.Join(dir, "empty")
	if err := os.WriteFile(keyFile, []byte("sk-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(emptyFile, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := LLMFlags{LLMURL: "https://api.example.com/v1", LLMModel: "big", LLMDailyTokens: 200000, LLMTimeout: time.Minute}
	with := func(mod func(*LLMFlags)) LLMFlags { f := ok; mod(&f); return f }
	for _, tc := range []struct {
		name    string
		flags   LLMFlags
		env     string // FERRY_LLM_API_KEY
		wantErr string // "" accepted; else a piece of the message
		wantKey string
	}{
		{name: "no model at all", flags: LLMFlags{LLMDailyTokens: 200000, LLMTimeout: time.Minute}},
		{name: "a model without a URL", flags: LLMFlags{LLMModel: "big"}, wantErr: "--llm-model (FERRY_LLM_MODEL): set, but --llm-url"},
		{name: "a key file without a URL", flags: LLMFlags{LLMAPIKeyFile: keyFile}, wantErr: "--llm-api-key-file"},
		{name: "URL and model, no key", flags: ok},
		{name: "local http endpoint", flags: with(func(f *LLMFlags) { f.LLMURL = "http://127.0.0.1:11434/v1" })},
		{name: "not http", flags: with(func(f *LLMFlags) { f.LLMURL = "ftp://example.com" }), wantErr: "--llm-url (FERRY_LLM_URL): must be http(s)"},
		{name: "no host", flags: with(func(f *LLMFlags) { f.LLMURL = "https:///v1" }), wantErr: "must be http(s)"},
		{name: "credentials in the URL", flags: with(func(f *LLMFlags) { f.LLMURL = "https://u:hunter2@example.com/v1" }), wantErr: "credentials"},
		{name: "no model", flags: with(func(f *LLMFlags) { f.LLMModel = " " }), wantErr: "--llm-model (FERRY_LLM_MODEL): required"},
		{name: "negative cap", flags: with(func(f *LLMFlags) { f.LLMDailyTokens = -1 }), wantErr: "--llm-daily-tokens"},
		{name: "zero timeout", flags: with(func(f *LLMFlags) { f.LLMTimeout = 0 }), wantErr: "--llm-timeout"},
		{name: "key from a file", flags: with(func(f *LLMFlags) { f.LLMAPIKeyFile = keyFile }), wantKey: "sk-from-file"},
		{name: "key from the environment", flags: ok, env: "sk-from-env", wantKey: "sk-from-env"},
		{name: "both", flags: with(func(f *LLMFlags) { f.LLMAPIKeyFile = keyFile }), env: "sk-from-env", wantErr: "not both"},
		{name: "missing file", flags: with(func(f *LLMFlags) { f.LLMAPIKeyFile = filepath.Join(dir, "none") }), wantErr: "cannot read"},
		{name: "empty file", flags: with(func(f *LLMFlags) { f.LLMAPIKeyFile = emptyFile }), wantErr: "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(envLLMAPIKey, tc.env)
			err := tc.flags.validate()
			if tc.wantErr != "" {
				var ue usageError
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &ue) || strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error %v, want a usage error saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if key, err := tc.flags.apiKey(); err != nil || key != tc.wantKey {
				t.Errorf("key %q, %v; want %q", key, err, tc.wantKey)
			}
		})
	}
}

// TestLLMFlags_Open: without a URL the model is Disabled; with one, a
// client for its models; the log names the models, never the key.
func TestLLMFlags_Open(t *testing.T) {
	t.Setenv(envLLMAPIKey, "sk-secret-from-env")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	m, err := LLMFlags{}.open(nil, log)
	if err != nil || m.Enabled() {
		t.Fatalf("no URL: %v %v", m, err)
	}
	if _, err := m.Ask(context.Background(), llm.Request{}); !errors.Is(err, llm.ErrDisabled) {
		t.Errorf("disabled answers %v", err)
	}
	f := LLMFlags{LLMURL: "https://api.example.com/v1", LLMModel: "big", LLMModelFast: "small", LLMDailyTokens: 1, LLMTimeout: time.Second}
	m, err = f.open(memLedger{}, log)
	if err != nil || !m.Enabled() || m.Model(llm.Strong) != "big" || m.Model(llm.Fast) != "small" {
		t.Fatalf("%v %v", m, err)
	}
	if strings.Contains(logs.String(), "sk-secret") || !strings.Contains(logs.String(), "model=big") {
		t.Errorf("log: %s", logs.String())
	}
	f.LLMModel = ""
	if _, err := f.open(memLedger{}, log); err == nil {
		t.Error("opened without a model")
	}
}

// memLedger is a ledger that remembers nothing.
type memLedger struct{}

func (memLedger) TokensUsed(context.Context, int64, time.Time) (int64, error) { return 0, nil }
func (memLedger) RecordUsage(context.Context, llm.Usage) error                { return nil }
func (memLedger) CachedAnswer(context.Context, string) (string, bool, error) {
	return "", false, nil
}
func (memLedger) CacheAnswer(context.Context, string, string, string, time.Time) error { return nil }
