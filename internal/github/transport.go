package github

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// retryTransport retries idempotent requests (GET, HEAD, PUT, DELETE,
// OPTIONS) on network errors and 5xx answers, with exponential backoff and
// jitter. POST and PATCH are never retried here: GitHub may have acted on a
// request whose answer was lost, and a second comment is worse than none.
type retryTransport struct {
	next  http.RoundTripper
	max   int
	base  time.Duration
	sleep func(ctx context.Context, d time.Duration) error
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !idempotent(req.Method) {
		return t.next.RoundTrip(req)
	}
	for attempt := 0; ; attempt++ {
		resp, err := t.next.RoundTrip(req)
		retry := err != nil && req.Context().Err() == nil || err == nil && resp.StatusCode >= 500
		if !retry || attempt >= t.max {
			return resp, err
		}
		wait := t.backoff(attempt, resp)
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if err := t.sleep(req.Context(), wait); err != nil {
			return nil, err
		}
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
	}
}

func (t *retryTransport) backoff(attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			return time.Duration(s) * time.Second
		}
	}
	d := t.base << attempt
	return d/2 + rand.N(d/2+1) // jitter: never hammer in lockstep
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// reauthTransport answers a 401 by starting over with a fresh installation
// transport (so a new token) and trying once more: a 401 means GitHub did
// not act, so even a POST is safe to repeat.
type reauthTransport struct {
	mu    sync.Mutex
	cur   http.RoundTripper
	fresh func() http.RoundTripper
}

func (t *reauthTransport) current() http.RoundTripper {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cur
}

func (t *reauthTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	used := t.current()
	resp, err := used.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || (req.Body != nil && req.GetBody == nil) {
		return resp, err
	}
	t.mu.Lock()
	if t.cur == used { // another request may have renewed it already
		t.cur = t.fresh()
	}
	next := t.cur
	t.mu.Unlock()
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	retry := req.Clone(req.Context())
	if req.GetBody != nil {
		if retry.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	return next.RoundTrip(retry)
}

// etagTransport makes repeated GETs conditional: a 304 costs no rate limit,
// and the cached body is served as the 200 it stands for.
type etagTransport struct {
	next    http.RoundTripper
	mu      sync.Mutex
	entries map[string]*cached
	order   []string // oldest first, for eviction
	max     int
}

type cached struct {
	etag   string
	header http.Header
	body   []byte
}

func newETagTransport(next http.RoundTripper, max int) *etagTransport {
	return &etagTransport{next: next, entries: map[string]*cached{}, max: max}
}

func (t *etagTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.Header.Get("If-None-Match") != "" {
		return t.next.RoundTrip(req)
	}
	key := req.Header.Get("Accept") + " " + req.URL.String()
	t.mu.Lock()
	hit := t.entries[key]
	t.mu.Unlock()
	if hit != nil {
		req = req.Clone(req.Context())
		req.Header.Set("If-None-Match", hit.etag)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && hit != nil:
		resp.Body.Close()
		h := hit.header.Clone()
		for _, k := range []string{"X-Ratelimit-Remaining", "X-Ratelimit-Used", "X-Ratelimit-Reset", "X-Ratelimit-Limit"} {
			if v := resp.Header.Get(k); v != "" {
				h.Set(k, v)
			}
		}
		h.Set("X-Ferry-Cache", "revalidated")
		return &http.Response{Status: "200 OK", StatusCode: http.StatusOK, Header: h, Proto: resp.Proto,
			ProtoMajor: resp.ProtoMajor, ProtoMinor: resp.ProtoMinor, Request: req,
			Body: io.NopCloser(bytes.NewReader(hit.body)), ContentLength: int64(len(hit.body))}, nil
	case resp.StatusCode == http.StatusOK && resp.Header.Get("ETag") != "":
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		t.store(key, &cached{etag: resp.Header.Get("ETag"), header: resp.Header.Clone(), body: body})
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return resp, nil
}

func (t *etagTransport) store(key string, c *cached) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.entries[key]; !ok {
		t.order = append(t.order, key)
	}
	t.entries[key] = c
	for len(t.order) > t.max {
		delete(t.entries, t.order[0])
		t.order = t.order[1:]
	}
}
