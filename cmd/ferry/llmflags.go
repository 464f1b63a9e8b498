package main

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/llm"
)

// llmModel is what ferry's features ask: a configured endpoint
// (*llm.Client) or llm.Disabled.
type llmModel interface {
	Ask(ctx context.Context, req llm.Request) (llm.Answer, error)
	Enabled() bool
	Model(t llm.Tier) string
}

// envLLMAPIKey holds the endpoint's API key itself. There is no flag for
// it: a flag's value shows in the process list.
const envLLMAPIKey = "FERRY_LLM_API_KEY"

// LLMFlags configure the language model ferry may ask; without a URL
// every feature goes on without one.
type LLMFlags struct {
	LLMURL         string        `name:"llm-url" env:"FERRY_LLM_URL" help:"Base URL of an OpenAI-compatible endpoint (e.g. https://api.openai.com/v1); unset: no model."`
	LLMAPIKeyFile  string        `name:"llm-api-key-file" env:"FERRY_LLM_API_KEY_FILE" help:"File holding the endpoint's API key (or set FERRY_LLM_API_KEY; there is no flag for the key itself)."`
	LLMModel       string        `name:"llm-model" env:"FERRY_LLM_MODEL" help:"Model for code (test generation): required with --llm-url."`
	LLMModelFast   string        `name:"llm-model-fast" env:"FERRY_LLM_MODEL_FAST" help:"Model for summaries and classification (default: --llm-model)."`
	LLMDailyTokens int64         `name:"llm-daily-tokens" env:"FERRY_LLM_DAILY_TOKENS" default:"200000" help:"Tokens one installation may spend per UTC day, whatever its policy says (0: no cap)."`
	LLMTimeout     time.Duration `name:"llm-timeout" env:"FERRY_LLM_TIMEOUT" default:"60s" help:"How long one call to the model may take."`
}

func (f LLMFlags) validate() error {
	if f.LLMURL == "" {
		for _, s := range []struct{ flag, env, value string }{
			{"llm-model", "FERRY_LLM_MODEL", f.LLMModel}, {"llm-model-fast", "FERRY_LLM_MODEL_FAST", f.LLMModelFast},
			{"llm-api-key-file", "FERRY_LLM_API_KEY_FILE", f.LLMAPIKeyFile},
		} {
			if s.value != "" {
				return settingError(s.flag, s.env, "set, but --llm-url (FERRY_LLM_URL) is not: no model would be asked")
			}
		}
		return nil
	}
	u, err := url.Parse(f.LLMURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return settingError("llm-url", "FERRY_LLM_URL", "must be http(s)://HOST/…, got %q", redactURL(f.LLMURL))
	case u.User != nil:
		return settingError("llm-url", "FERRY_LLM_URL", "must not carry credentials: use --llm-api-key-file or %s", envLLMAPIKey)
	case strings.TrimSpace(f.LLMModel) == "":
		return settingError("llm-model", "FERRY_LLM_MODEL", "required with --llm-url")
	case f.LLMDailyTokens < 0:
		return settingError("llm-daily-tokens", "FERRY_LLM_DAILY_TOKENS", "must be 0 (no cap) or more, got %d", f.LLMDailyTokens)
	case f.LLMTimeout <= 0:
		return settingError("llm-timeout", "FERRY_LLM_TIMEOUT", "must be positive, got %s", f.LLMTimeout)
	}
	_, err = f.apiKey()
	return err
}

// apiKey reads the key from the file or FERRY_LLM_API_KEY (one, not both);
// none is fine: a local endpoint may need no key.
func (f LLMFlags) apiKey() (string, error) {
	env := os.Getenv(envLLMAPIKey)
	switch {
	case f.LLMAPIKeyFile != "" && env != "":
		return "", settingError("llm-api-key-file", "FERRY_LLM_API_KEY_FILE", "set either it or %s, not both", envLLMAPIKey)
	case f.LLMAPIKeyFile == "":
		return strings.TrimSpace(env), nil
	}
	b, err := os.ReadFile(f.LLMAPIKeyFile)
	if err != nil {
		return "", settingError("llm-api-key-file", "FERRY_LLM_API_KEY_FILE", "cannot read: %v", err)
	}
	key := strings.TrimSpace(string(b))
	if key == "" {
		return "", settingError("llm-api-key-file", "FERRY_LLM_API_KEY_FILE", "%s is empty", f.LLMAPIKeyFile)
	}
	return key, nil
}

// open makes the model ferry asks, recording through ledger: llm.Disabled
// without a URL.
func (f LLMFlags) open(ledger llm.Ledger, log *slog.Logger) (llmModel, error) {
	if f.LLMURL == "" {
		return llm.Disabled{}, nil
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	key, err := f.apiKey()
	if err != nil {
		return nil, err
	}
	c, err := llm.New(llm.Config{URL: f.LLMURL, APIKey: key, Model: f.LLMModel, ModelFast: f.LLMModelFast,
		DailyTokens: f.LLMDailyTokens, Timeout: f.LLMTimeout, Log: log}, ledger)
	if err != nil {
		return nil, err // llm's own words name the setting
	}
	log.Info("llm enabled", "url", redactURL(f.LLMURL), "model", c.Model(llm.Strong), "model_fast", c.Model(llm.Fast),
		"daily_tokens", f.LLMDailyTokens, "api_key_set", key != "")
	return c, nil
}
