package webhook

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ferry-ci/ferry/internal/fixture"
)

// watchedBody counts the bytes read from it.
type watchedBody struct {
	r    io.Reader
	read atomic.Int64
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read.Add(int64(n))
	return n, err
}

// signedRequest is a valid delivery of body; edit changes it.
func signedRequest(body io.Reader, signed []byte, length int64, edit func(*http.Request)) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/webhook", body)
	req.ContentLength = length
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "ping")
	req.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	req.Header.Set("X-Hub-Signature-256", fixture.Sign(secret, signed))
	if edit != nil {
		edit(req)
	}
	return req
}

// TestRejectedBeforeReading: what the headers alone refuse is refused
// without reading a byte of the body, with its status, metric reason and
// no budget left reserved.
func TestRejectedBeforeReading(t *testing.T) {
	ping := fixture.Payload("ping", "payload.json")
	set := func(k, v string) func(*http.Request) { return func(r *http.Request) { r.Header.Set(k, v) } }
	tests := []struct {
		name   string
		edit   func(*http.Request)
		length int64 // declared; 0 means the body's real length
		want   int
		reason string
	}{
		{"GET", func(r *http.Request) { r.Method = http.MethodGet }, 0, http.StatusMethodNotAllowed, "rejected_method"},
		{"declared length over the cap", nil, MaxBody + 1, http.StatusRequestEntityTooLarge, "rejected_size"},
		{"unsupported content type", set("Content-Type", "text/plain"), 0, http.StatusBadRequest, "rejected_content_type"},
		{"no signature", set("X-Hub-Signature-256", ""), 0, http.StatusUnauthorized, "rejected_signature"},
		{"signature not hex", set("X-Hub-Signature-256", "sha256=zz"), 0, http.StatusUnauthorized, "rejected_signature"},
		{"signature too short", set("X-Hub-Signature-256", "sha256=abcd"), 0, http.StatusUnauthorized, "rejected_signature"},
		{"SHA-1 signature", set("X-Hub-Signature-256", sha1Sig(ping)), 0, http.StatusUnauthorized, "rejected_signature"},
		{"no event", set("X-GitHub-Event", ""), 0, http.StatusBadRequest, "rejected_headers"},
		{"event with a space", set("X-GitHub-Event", "pull request"), 0, http.StatusBadRequest, "rejected_headers"},
		{"no delivery id", set("X-GitHub-Delivery", ""), 0, http.StatusBadRequest, "rejected_headers"},
		{"delivery id too long", set("X-GitHub-Delivery", strings.Repeat("a", 101)), 0, http.StatusBadRequest, "rejected_headers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHandler(newMemRecorder(), prometheus.NewRegistry())
			b := &watchedBody{r: bytes.NewReader(ping)}
			length := tt.length
			if length == 0 {
				length = int64(len(ping))
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, signedRequest(b, ping, length, tt.edit))
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d (%s)", w.Code, tt.want, w.Body)
			}
			if n := b.read.Load(); n != 0 {
				t.Errorf("read %d bytes of a body refused from its headers", n)
			}
			if got := testutil.ToFloat64(h.metrics.deliveries.WithLabelValues("-", tt.reason)); got != 1 {
				t.Errorf("%s counted %v times, want 1", tt.reason, got)
			}
			if w.Header().Get("Connection") != "close" {
				t.Errorf("Connection %q, want close: the unread body is not drained", w.Header().Get("Connection"))
			}
			if used := h.budget.used.Load(); used != 0 {
				t.Errorf("%d bytes of budget still reserved", used)
			}
		})
	}
}

// TestBodies: declared and chunked bodies, at and over the cap; the budget
// is back to zero after each, whatever the outcome.
func TestBodies(t *testing.T) {
	ping := fixture.Payload("ping", "payload.json")
	exact := append(append([]byte(`{"zen":"`), bytes.Repeat([]byte("z"), 3*chunkSize-10)...), '"', '}') // 3 whole chunks
	big := bytes.Repeat([]byte(" "), 2<<20)
	tests := []struct {
		name    string
		body    []byte
		signed  []byte // what the signature covers
		chunked bool
		max     int64
		want    int
		eof     bool  // the last bytes come with io.EOF, as from net/http
		short   int64 // declared length minus what is sent
	}{
		{"declared", ping, ping, false, 0, http.StatusAccepted, false, 0},
		{"chunked", ping, ping, true, 0, http.StatusAccepted, false, 0},
		{"declared, whole chunks", exact, exact, false, 0, http.StatusAccepted, false, 0},
		{"chunked, whole chunks", exact, exact, true, 0, http.StatusAccepted, false, 0},
		{"declared, forged", ping, exact, false, 0, http.StatusUnauthorized, false, 0},
		{"chunked, forged", exact, ping, true, 0, http.StatusUnauthorized, false, 0},
		{"chunked over the cap", big, big, true, 1 << 20, http.StatusRequestEntityTooLarge, false, 0},
		{"declared at the cap", exact, exact, false, int64(len(exact)), http.StatusAccepted, false, 0},
		{"chunked one byte over the cap", exact, exact, true, int64(len(exact)) - 1, http.StatusRequestEntityTooLarge, false, 0},
		{"declared, last bytes with EOF", ping, ping, false, 0, http.StatusAccepted, true, 0},
		{"chunked, last bytes with EOF", ping, ping, true, 0, http.StatusAccepted, true, 0},
		{"declared longer than sent", ping, ping, false, 0, http.StatusBadRequest, true, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newMemRecorder()
			h := New(Config{Secret: secret, MaxBody: tt.max, Logger: slog.New(slog.DiscardHandler)}, rec, routes{}, NewMetrics(prometheus.NewRegistry()))
			var r io.Reader = bytes.NewReader(tt.body)
			if tt.eof {
				r = iotest.DataErrReader(r)
			}
			length := int64(len(tt.body)) - tt.short
			if tt.chunked {
				r, length = io.MultiReader(r), -1
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, signedRequest(r, tt.signed, length, nil))
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d (%s)", w.Code, tt.want, w.Body)
			}
			if n, _ := rec.count(); (n == 1) != (tt.want == http.StatusAccepted) {
				t.Fatalf("stored %d", n)
			}
			if w.Code == http.StatusAccepted && !bytes.Equal(rec.byID["72d3162e-cc78-11e3-81ab-4c9367dc0958"].Payload, tt.body) {
				t.Fatal("stored payload differs from the body sent")
			}
			if used := h.budget.used.Load(); used != 0 {
				t.Errorf("%d bytes of budget still reserved", used)
			}
		})
	}
}

// TestBudget: while one body holds the in-flight budget, another that does
// not fit is answered 503 with Retry-After before a byte of it is read;
// when the first finishes, the next is accepted.
func TestBudget(t *testing.T) {
	rec := newMemRecorder()
	h := New(Config{Secret: secret, MaxBody: 1 << 20, MaxInFlightBytes: 1 << 20, Logger: slog.New(slog.DiscardHandler)},
		rec, routes{}, NewMetrics(prometheus.NewRegistry()))
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprint("holder chunked=", chunked), func(t *testing.T) {
			pr, pw := io.Pipe()
			length := int64(1 << 20)
			if chunked {
				length = -1
			}
			done := make(chan int)
			go func() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, signedRequest(pr, []byte("x"), length, nil))
				done <- w.Code
			}()
			// The holder has reserved everything once its first bytes are in.
			_, _ = pw.Write(bytes.Repeat([]byte("a"), 1000))
			for h.budget.used.Load() == 0 {
				time.Sleep(time.Millisecond)
			}
			if chunked {
				_, _ = pw.Write(bytes.Repeat([]byte("a"), 1<<20-1-1000)) // fill the budget chunk by chunk
			}
			ping := fixture.Payload("ping", "payload.json")
			b := &watchedBody{r: bytes.NewReader(ping)}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, signedRequest(b, ping, int64(len(ping)), nil))
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || b.read.Load() != 0 {
				t.Fatalf("over budget: %d, Retry-After %q, %d bytes read; want 503, a Retry-After, nothing read",
					w.Code, w.Header().Get("Retry-After"), b.read.Load())
			}
			pw.CloseWithError(io.ErrUnexpectedEOF)
			if code := <-done; code != http.StatusBadRequest && code != http.StatusRequestEntityTooLarge {
				t.Fatalf("holder: %d", code)
			}
			if used := h.budget.used.Load(); used != 0 {
				t.Fatalf("%d bytes of budget still reserved", used)
			}
		})
	}
	if got := testutil.ToFloat64(h.metrics.deliveries.WithLabelValues("-", "rejected_busy")); got != 2 {
		t.Errorf("rejected_busy = %v, want 2", got)
	}
}

// TestAttack_SlowBodyReleasesBudget: a client that declares a large body
// and then trickles holds the budget only until the server's ReadTimeout
// cuts it off; then deliveries are accepted again.
func TestAttack_SlowBodyReleasesBudget(t *testing.T) {
	h := New(Config{Secret: secret, MaxBody: 1 << 20, MaxInFlightBytes: 1 << 20, Logger: slog.New(slog.DiscardHandler)},
		newMemRecorder(), routes{}, NewMetrics(prometheus.NewRegistry()))
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ReadTimeout = 500 * time.Millisecond
	srv.Start()
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"+
		"X-GitHub-Event: ping\r\nX-GitHub-Delivery: slow\r\nX-Hub-Signature-256: %s\r\n\r\n{", 1<<20, fixture.Sign(secret, []byte("{")))
	for h.budget.used.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ping := fixture.Payload("ping", "payload.json")
	post := func() int {
		req := signedRequest(bytes.NewReader(ping), ping, int64(len(ping)), nil)
		req.RequestURI, req.URL.Scheme, req.URL.Host = "", "http", srv.Listener.Addr().String()
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(); got != http.StatusServiceUnavailable {
		t.Fatalf("while the slow body holds the budget: %d, want 503", got)
	}
	// The slow client is answered (400, its body cut off) and the budget freed.
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(status, "400") {
		t.Fatalf("slow client got %q, %v; want a 400", status, err)
	}
	for deadline := time.Now().Add(5 * time.Second); h.budget.used.Load() != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("budget still reserved after the read timeout")
		}
	}
	if got := post(); got != http.StatusAccepted {
		t.Fatalf("after the slow client was cut off: %d, want 202", got)
	}
}
