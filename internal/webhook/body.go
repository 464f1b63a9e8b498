package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// DefaultMaxInFlightBytes bounds the request bodies held in memory at once
// across all requests: room for two of GitHub's largest payloads, or about
// a thousand ordinary ones (64 KiB each, see chunkSize).
const DefaultMaxInFlightBytes = 64 << 20

// chunkSize is the unit bodies are read and accounted in. Most GitHub
// payloads fit one chunk; a 25 MiB body takes 400.
const chunkSize = 64 << 10

type chunk = [chunkSize]byte

// budget counts the body bytes buffered by all requests in flight. It
// never waits: a request that does not fit is refused at once, so a flood
// cannot pile up goroutines waiting for memory.
type budget struct {
	size int64
	used atomic.Int64
}

func (b *budget) tryReserve(n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.size {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (b *budget) release(n int64) { b.used.Add(-n) }

// roundUp is n rounded up to whole chunks.
func roundUp(n int64) int64 { return (n + chunkSize - 1) / chunkSize * chunkSize }

var (
	errBusy    = errors.New("in-flight body budget exhausted")
	errTooBig  = errors.New("body over the size cap")
	errNoMatch = errors.New("signature does not match")
)

// body is a request body read into pooled chunks, its bytes reserved from
// the budget first. release returns both; it is safe to call once on every
// path.
type body struct {
	budget   *budget
	pool     *sync.Pool // of *chunk
	max      int64
	declared int64 // Content-Length, or -1 when chunked
	chunks   []*chunk
	n        int64 // bytes read
	reserved int64
}

// read fills b from r, feeding every byte to mac. A declared length is
// reserved whole before the first byte is read; a chunked body reserves
// chunk by chunk and is refused as soon as it no longer fits.
func (b *body) read(r io.Reader, mac io.Writer) error {
	if b.declared > 0 && !b.reserve(roundUp(b.declared)) {
		return errBusy
	}
	r = io.LimitReader(r, b.max+1)
	for b.declared < 0 || b.n < b.declared {
		if b.n == int64(len(b.chunks))*chunkSize {
			if !b.reserve(b.n + chunkSize) {
				return errBusy
			}
			b.chunks = append(b.chunks, b.pool.Get().(*chunk))
		}
		off := b.n % chunkSize
		free := b.chunks[len(b.chunks)-1][off:]
		k, err := r.Read(free)
		mac.Write(free[:k])
		b.n += int64(k)
		switch {
		case b.n > b.max:
			return errTooBig
		case err == io.EOF && b.n < b.declared:
			return io.ErrUnexpectedEOF
		case err == io.EOF:
			return nil
		case err != nil:
			return err
		}
	}
	return nil
}

// reserve makes sure total bytes are reserved.
func (b *body) reserve(total int64) bool {
	need := total - b.reserved
	if need <= 0 {
		return true
	}
	if !b.budget.tryReserve(need) {
		return false
	}
	b.reserved += need
	return true
}

// bytes copies the body out of its chunks: the copy outlives the request
// (the Recorder keeps it), the chunks go back to the pool.
func (b *body) bytes() []byte {
	out := make([]byte, 0, b.n)
	for i, c := range b.chunks {
		end := min(chunkSize, b.n-int64(i)*chunkSize)
		out = append(out, c[:end]...)
	}
	return out
}

func (b *body) release() {
	for _, c := range b.chunks {
		b.pool.Put(c)
	}
	b.chunks = nil
	b.budget.release(b.reserved)
	b.reserved = 0
}

// readVerified reads the body within the budget and checks its HMAC
// against want, before any byte of it is parsed: with the current secret
// and, while one is being rotated out, the previous one too. It returns a
// copy of a body that verified and whether it was the previous secret
// that did; the buffers are released on every path.
func (h *Handler) readVerified(r *http.Request, want []byte) ([]byte, bool, *rejection) {
	b := body{budget: &h.budget, pool: &h.chunks, max: h.cfg.MaxBody, declared: r.ContentLength}
	defer b.release()
	cur := hmac.New(sha256.New, h.cfg.Secret)
	var prev hash.Hash
	var sink io.Writer = cur
	if len(h.cfg.PreviousSecret) > 0 {
		prev = hmac.New(sha256.New, h.cfg.PreviousSecret)
		sink = io.MultiWriter(cur, prev) // one pass over the body for both
	}
	err := b.read(r.Body, sink)
	var byPrevious bool
	if err == nil {
		byPrevious, err = match(cur, prev, want)
	}
	switch {
	case err == nil:
		return b.bytes(), byPrevious, nil
	case errors.Is(err, errBusy):
		return nil, false, busy()
	case errors.Is(err, errTooBig):
		return nil, false, tooBig(h.cfg.MaxBody)
	case errors.Is(err, errNoMatch):
		return nil, false, reject(http.StatusUnauthorized, "rejected_signature", "signature does not match")
	}
	return nil, false, reject(http.StatusBadRequest, "rejected_body", "could not read body")
}

// match compares want with the current MAC and, when there is one, the
// previous: each in constant time (hmac.Equal), and both always, so the
// time taken does not tell which secret matched. Whether one did is no
// secret: the answer says so.
func match(cur, prev hash.Hash, want []byte) (byPrevious bool, err error) {
	okCur := hmac.Equal(cur.Sum(nil), want)
	okPrev := prev != nil && hmac.Equal(prev.Sum(nil), want)
	switch {
	case okCur:
		return false, nil
	case okPrev:
		return true, nil
	}
	return false, errNoMatch
}

func busy() *rejection {
	rej := reject(http.StatusServiceUnavailable, "rejected_busy", "too many deliveries in flight; retry later")
	rej.retryAfter = "5"
	return rej
}

func tooBig(limit int64) *rejection {
	return reject(http.StatusRequestEntityTooLarge, "rejected_size", "body over %d bytes", limit)
}
