package webhook

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferry-ci/ferry/internal/fixture"
)

// FuzzWebhook: whatever arrives, the handler never panics, never records an
// unsigned (or wrongly signed) body, and answers 202 exactly when it recorded
// something new. Seeds: every real payload, JSON and form encoded.
func FuzzWebhook(f *testing.F) {
	for _, w := range fixture.Webhooks() {
		f.Add(w.Event, w.Payload, true, "application/json")
		f.Add(w.Event, w.Payload, false, "application/json")
	}
	ping := fixture.Payload("ping", "payload.json")
	f.Add("ping", []byte("payload="+url.QueryEscape(string(ping))), true, "application/x-www-form-urlencoded")
	f.Add("ping", []byte("payload=%zz"), true, "application/x-www-form-urlencoded")
	f.Fuzz(func(t *testing.T, ev string, body []byte, signed bool, contentType string) {
		rec := newMemRecorder()
		h := newTestHandler(rec, prometheus.NewRegistry())
		sig := fixture.Sign([]byte("not the secret"), body)
		if signed {
			sig = fixture.Sign(secret, body)
		}
		w := request{contentType: contentType, event: ev, delivery: "fuzz-delivery", body: body,
			headers: map[string]string{"X-Hub-Signature-256": sig}}.do(t, h)
		n, _ := rec.count()
		switch {
		case !signed && n != 0:
			t.Fatalf("recorded a body not signed with the secret (status %d)", w.Code)
		case !signed && w.Code != http.StatusUnauthorized && w.Code != http.StatusBadRequest:
			t.Fatalf("wrongly signed body answered %d", w.Code)
		case (w.Code == http.StatusAccepted) != (n == 1):
			t.Fatalf("status %d with %d recorded", w.Code, n)
		}
	})
}
