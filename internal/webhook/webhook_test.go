package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/fixture"
)

var secret = []byte("It's a Secret to Everybody")

// memRecorder is a stateful fake of the durable recorder: it dedupes by id
// and payload digest like the store does.
type memRecorder struct {
	mu      sync.Mutex
	byID    map[string]event.Delivery
	digests map[string]bool
	jobs    int
}

func newMemRecorder() *memRecorder {
	return &memRecorder{byID: map[string]event.Delivery{}, digests: map[string]bool{}}
}

func (m *memRecorder) Record(_ context.Context, d event.Delivery) (event.Outcome, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[d.ID]; ok || m.digests[d.Digest] {
		return event.OutcomeDuplicate, nil
	}
	m.byID[d.ID], m.digests[d.Digest] = d, true
	if d.Status == event.StatusQueued {
		m.jobs++
		return event.OutcomeAccepted, nil
	}
	return event.OutcomeIgnored, nil
}

func (m *memRecorder) count() (deliveries, jobs int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byID), m.jobs
}

// routes handles installation and ping, like the application today.
type routes struct{}

func (routes) Handles(ev, _ string) bool { return ev == "installation" || ev == "ping" }

func newTestHandler(rec Recorder, reg prometheus.Registerer) *Handler {
	return New(Config{Secret: secret, Now: time.Now, Logger: slog.New(slog.DiscardHandler)}, rec, routes{}, NewMetrics(reg))
}

type request struct {
	method, contentType, event, delivery string
	body                                 []byte
	headers                              map[string]string
}

func (r request) do(t *testing.T, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	req := httptest.NewRequest(method, "/webhook", bytes.NewReader(r.body))
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.event != "" {
		req.Header.Set("X-GitHub-Event", r.event)
	}
	if r.delivery != "" {
		req.Header.Set("X-GitHub-Delivery", r.delivery)
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func sha1Sig(body []byte) string {
	m := hmac.New(sha1.New, secret)
	m.Write(body)
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

func TestSignatures(t *testing.T) {
	ping := fixture.Payload("ping", "payload.json")
	other := fixture.Payload("ping", "with-organization.payload.json")
	sig := func(b []byte) map[string]string {
		return map[string]string{"X-Hub-Signature-256": fixture.Sign(secret, b)}
	}
	tests := []struct {
		name    string
		body    []byte
		headers map[string]string
		want    int
		stored  bool
	}{
		{"valid", ping, sig(ping), http.StatusAccepted, true},
		{"wrong secret", ping, map[string]string{"X-Hub-Signature-256": fixture.Sign([]byte("nope"), ping)}, http.StatusUnauthorized, false},
		{"missing header", ping, nil, http.StatusUnauthorized, false},
		{"only the old SHA-1 header", ping, map[string]string{"X-Hub-Signature": sha1Sig(ping)}, http.StatusUnauthorized, false},
		{"SHA-1 value in the SHA-256 header", ping, map[string]string{"X-Hub-Signature-256": sha1Sig(ping)}, http.StatusUnauthorized, false},
		{"signature over a different body", ping, sig(other), http.StatusUnauthorized, false},
		{"not hex", ping, map[string]string{"X-Hub-Signature-256": "sha256=zz"}, http.StatusUnauthorized, false},
		{"empty body, unsigned", nil, nil, http.StatusUnauthorized, false},
		{"empty body, signed", []byte{}, sig([]byte{}), http.StatusBadRequest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newMemRecorder()
			w := request{contentType: "application/json", event: "ping", delivery: "d-1", body: tt.body, headers: tt.headers}.
				do(t, newTestHandler(rec, prometheus.NewRegistry()))
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d (%s)", w.Code, tt.want, w.Body)
			}
			if n, _ := rec.count(); (n == 1) != tt.stored {
				t.Fatalf("stored %d deliveries, want stored=%v", n, tt.stored)
			}
		})
	}
}

func TestRequests(t *testing.T) {
	inst := fixture.Payload("installation", "created.payload.json")
	pr := fixture.Payload("pull_request", "opened.payload.json")
	form := []byte("payload=" + url.QueryEscape(string(inst)))
	big := append([]byte(`{"zen":"`), bytes.Repeat([]byte("a"), MaxBody)...)
	big = append(big, '"', '}')
	tests := []struct {
		name     string
		req      request
		want     int
		outcome  event.Outcome // when stored
		stored   bool
		wantBody string
	}{
		{"handled event is queued", request{event: "installation", body: inst}, http.StatusAccepted, event.OutcomeAccepted, true, "accepted"},
		{"unhandled event is recorded as ignored", request{event: "pull_request", body: pr}, http.StatusAccepted, event.OutcomeIgnored, true, "ignored"},
		{"event unknown to go-github is ignored", request{event: "merge_group_x", body: []byte(`{"action":"x"}`)}, http.StatusAccepted, event.OutcomeIgnored, true, "ignored"},
		{"form encoded", request{event: "installation", body: form, contentType: "application/x-www-form-urlencoded"}, http.StatusAccepted, event.OutcomeAccepted, true, "accepted"},
		{"content type with charset", request{event: "installation", body: inst, contentType: "application/json; charset=utf-8"}, http.StatusAccepted, event.OutcomeAccepted, true, ""},
		{"unknown content type", request{event: "installation", body: inst, contentType: "text/plain"}, http.StatusBadRequest, "", false, ""},
		{"no content type", request{event: "installation", body: inst, contentType: "-"}, http.StatusBadRequest, "", false, ""},
		{"malformed JSON", request{event: "installation", body: []byte(`{"action":`)}, http.StatusBadRequest, "", false, ""},
		{"JSON that is not an object", request{event: "ping", body: []byte(`[1,2]`)}, http.StatusBadRequest, "", false, ""},
		{"invalid UTF-8", request{event: "ping", body: []byte("{\"zen\":\"\xff\"}")}, http.StatusBadRequest, "", false, ""},
		{"payload not matching its event", request{event: "installation", body: []byte(`{"installation":{"id":"x"}}`)}, http.StatusBadRequest, "", false, ""},
		{"form without payload", request{event: "ping", body: []byte("a=b"), contentType: "application/x-www-form-urlencoded"}, http.StatusBadRequest, "", false, ""},
		{"missing delivery id", request{event: "ping", body: inst, delivery: "-"}, http.StatusBadRequest, "", false, ""},
		{"missing event", request{body: inst}, http.StatusBadRequest, "", false, ""},
		{"GET", request{method: http.MethodGet, event: "ping", body: inst}, http.StatusMethodNotAllowed, "", false, ""},
		{"over 25 MiB", request{event: "ping", body: big}, http.StatusRequestEntityTooLarge, "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.req
			switch r.contentType {
			case "":
				r.contentType = "application/json"
			case "-":
				r.contentType = ""
			}
			switch r.delivery {
			case "":
				r.delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
			case "-":
				r.delivery = ""
			}
			r.headers = map[string]string{"X-Hub-Signature-256": fixture.Sign(secret, r.body)}
			rec := newMemRecorder()
			w := r.do(t, newTestHandler(rec, prometheus.NewRegistry()))
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d (%s)", w.Code, tt.want, w.Body)
			}
			n, _ := rec.count()
			if (n == 1) != tt.stored {
				t.Fatalf("stored %d, want stored=%v", n, tt.stored)
			}
			if tt.wantBody != "" && strings.TrimSpace(w.Body.String()) != tt.wantBody {
				t.Errorf("body %q, want %q", w.Body, tt.wantBody)
			}
		})
	}
}

func TestDuplicatesAndReplays(t *testing.T) {
	rec := newMemRecorder()
	reg := prometheus.NewRegistry()
	h := newTestHandler(rec, reg)
	inst := fixture.Payload("installation", "created.payload.json")
	send := func(id string) int {
		return request{contentType: "application/json", event: "installation", delivery: id, body: inst,
			headers: map[string]string{"X-Hub-Signature-256": fixture.Sign(secret, inst)}}.do(t, h).Code
	}
	if got := send("a"); got != http.StatusAccepted {
		t.Fatalf("first: %d", got)
	}
	if got := send("a"); got != http.StatusOK {
		t.Fatalf("redelivery with the same id: %d, want 200", got)
	}
	// A captured request replayed under a new delivery id is still the
	// same signed bytes.
	if got := send("b"); got != http.StatusOK {
		t.Fatalf("replay under a new id: %d, want 200", got)
	}
	if _, jobs := rec.count(); jobs != 1 {
		t.Fatalf("%d jobs, want 1", jobs)
	}
	for outcome, want := range map[string]float64{"accepted": 1, "duplicate": 2} {
		got := testutil.ToFloat64(h.metrics.deliveries.WithLabelValues("installation", outcome))
		if got != want {
			t.Errorf("ferry_webhook_deliveries_total{outcome=%q} = %v, want %v", outcome, got, want)
		}
	}
}

func TestMetricsBoundEventLabel(t *testing.T) {
	h := newTestHandler(newMemRecorder(), prometheus.NewRegistry())
	body := []byte(`{"action":"x"}`)
	for _, ev := range []string{"made_up_1", "made_up_2"} {
		request{contentType: "application/json", event: ev, delivery: ev, body: body,
			headers: map[string]string{"X-Hub-Signature-256": fixture.Sign(secret, body)}}.do(t, h)
		body = append(body, ' ')
	}
	if got := testutil.ToFloat64(h.metrics.deliveries.WithLabelValues("other", "ignored")); got != 2 {
		t.Fatalf("other/ignored = %v, want 2", got)
	}
}
