package llm

import (
	"context"
	"sync"
	"time"
)

// Memory is a Ledger in memory: for one CLI run (the budget and the cache
// last as long as the process) and for tests. The server keeps both in
// its database.
type Memory struct {
	mu    sync.Mutex
	usage []Usage
	cache map[string]string
}

// TokensUsed sums the installation's tokens since a time; cached answers
// spent none.
func (m *Memory) TokensUsed(_ context.Context, installation int64, since time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, u := range m.usage {
		if u.Installation == installation && !u.At.Before(since) && !u.Cached {
			n += int64(u.PromptTokens + u.CompletionTokens)
		}
	}
	return n, nil
}

// RecordUsage keeps what a call cost.
func (m *Memory) RecordUsage(_ context.Context, u Usage) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.usage = append(m.usage, u)
	return nil
}

// CachedAnswer is the answer kept under key, if any.
func (m *Memory) CachedAnswer(_ context.Context, key string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	text, ok := m.cache[key]
	return text, ok, nil
}

// CacheAnswer keeps an answer under key.
func (m *Memory) CacheAnswer(_ context.Context, key, _, text string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cache == nil {
		m.cache = map[string]string{}
	}
	m.cache[key] = text
	return nil
}

// Recorded is every call recorded, in order.
func (m *Memory) Recorded() []Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Usage(nil), m.usage...)
}

// CachedAnswers is how many answers the cache keeps.
func (m *Memory) CachedAnswers() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.cache)
}
