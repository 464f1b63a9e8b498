package webhook

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferry-ci/ferry/internal/fixture"
)

// BenchmarkHandler is the edge's own CPU cost per delivery (verify, parse,
// route) with an in-memory recorder: what the database adds is measured
// by `make bench`.
func BenchmarkHandler(b *testing.B) {
	for _, c := range []struct{ event, name string }{
		{"ping", "payload.json"},
		{"pull_request", "opened.payload.json"},
		{"workflow_run", "completed.payload.json"},
	} {
		body := fixture.Payload(c.event, c.name)
		b.Run(fmt.Sprintf("%s/%dB", c.event, len(body)), func(b *testing.B) {
			h := newTestHandler(newMemRecorder(), prometheus.NewRegistry())
			sig := fixture.Sign(secret, body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-GitHub-Event", c.event)
				req.Header.Set("X-GitHub-Delivery", fmt.Sprint("d", i))
				req.Header.Set("X-Hub-Signature-256", sig)
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
