// Package keylock serializes work per key inside one process (ferry's job
// queue serializes it across processes). The zero Set is ready to use.
package keylock

import "sync"

// Set holds one mutex per key, made on first use.
type Set struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// Lock waits for key's mutex and returns its unlock.
func (s *Set) Lock(key string) (unlock func()) {
	s.mu.Lock()
	if s.locks == nil {
		s.locks = map[string]*sync.Mutex{}
	}
	m, ok := s.locks[key]
	if !ok {
		m = &sync.Mutex{}
		s.locks[key] = m
	}
	s.mu.Unlock()
	m.Lock()
	return m.Unlock
}
