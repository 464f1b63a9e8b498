package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestAttack_SetupStateForged: a callback without this setup's state, for
// another host name (DNS rebinding), or with a code that is no code is
// refused and never traded; the real one still works afterwards.
func TestAttack_SetupStateForged(t *testing.T) {
	sim, _ := newSim(t)
	r := startSetup(t, sim, "--out="+outDir(t))
	back := browse(t, r.base)
	q := back.Query()
	forge := func(code, state string) string {
		v := url.Values{"code": {code}}
		if state != "" {
			v.Set("state", state)
		}
		return r.base + "/setup/callback?" + v.Encode()
	}
	port := back.Port()
	for _, tc := range []struct {
		name, url, host string
		want            int
	}{
		{"wrong state", forge(q.Get("code"), strings.Repeat("0", 64)), "", http.StatusForbidden},
		{"no state", forge(q.Get("code"), ""), "", http.StatusForbidden},
		{"state's prefix", forge(q.Get("code"), q.Get("state")[:32]), "", http.StatusForbidden},
		{"rebound host name", back.String(), "attacker.example:" + port, http.StatusMisdirectedRequest},
		{"path in the code", forge("../../app", q.Get("state")), "", http.StatusBadRequest},
	} {
		if status := visit(t, tc.url, tc.host); status != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, status, tc.want)
		}
	}
	if n := sim.Count(conversion, 0); n != 0 {
		t.Fatalf("a forged callback was traded (%d conversions)", n)
	}
	if status := visit(t, back.String(), ""); status != 200 {
		t.Fatalf("the real callback answered %d", status)
	}
	if err := r.wait(t); err != nil {
		t.Fatal(err)
	}
}

// TestAttack_SetupSecondCallback: once GitHub's answer came, the state is
// spent: the same callback again, or a new code under the same state, is
// refused and never traded.
func TestAttack_SetupSecondCallback(t *testing.T) {
	sim, _ := newSim(t)
	cmd := &SetupCmd{URL: "https://ferry.example.test", Name: "ferry", Out: outDir(t), Format: "files",
		Listen: "127.0.0.1:0", GitHubURL: sim.WebURL(), GitHubAPIURL: sim.URL(), Timeout: time.Minute}
	if err := cmd.validate(); err != nil {
		t.Fatal(err)
	}
	if err := prepareCredentialDir(cmd.Out, false); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	flow, err := cmd.newFlow(&env{stdout: io.Discard}, srv.Listener.Addr().String(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = flow
	srv.Start()
	defer srv.Close()
	back := browse(t, srv.URL)
	if status := visit(t, back.String(), ""); status != 200 {
		t.Fatalf("callback answered %d", status)
	}
	if res := <-flow.done; res.err != nil {
		t.Fatal(res.err)
	}
	if status := visit(t, back.String(), ""); status != http.StatusGone {
		t.Errorf("the same callback again: %d", status)
	}
	if status := visit(t, browse(t, srv.URL).String(), ""); status != http.StatusGone {
		t.Errorf("a new code under the spent state: %d", status)
	}
	if n := sim.Count(conversion, 0); n != 1 {
		t.Errorf("%d conversions, want 1", n)
	}
}

// TestAttack_SetupPageEscapes: the App's name reaches the page escaped and
// the manifest intact; the page runs only its own script.
func TestAttack_SetupPageEscapes(t *testing.T) {
	sim, _ := newSim(t)
	name := `x"><img src=x onerror=alert(1)>`
	r := startSetup(t, sim, "--out="+outDir(t), "--name="+name)
	_, m, body := loadSetupPage(t, r.base)
	if strings.Contains(body, "<img") {
		t.Errorf("markup from the name reached the page:\n%s", body)
	}
	var got struct{ Name string }
	if err := json.Unmarshal([]byte(m), &got); err != nil || got.Name != name {
		t.Errorf("manifest name %q, %v", got.Name, err)
	}
	resp, err := http.Get(r.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'nonce-") ||
		!strings.Contains(csp, "form-action "+sim.WebURL()) {
		t.Errorf("Content-Security-Policy %q", csp)
	}
}
