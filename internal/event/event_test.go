package event

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tidwall/gjson"
)

// TestSummarize: the routing fields where GitHub puts them, and a field of
// the wrong type is an error, not a zero.
func TestSummarize(t *testing.T) {
	tests := []struct {
		name, payload string
		want          Delivery
		bad           bool
	}{
		{"pull request", `{"action":"opened","number":7,"pull_request":{"number":7,"x":[1,{"y":"}"}]},"repository":{"id":3,"full_name":"o/r"},"installation":{"id":9}}`,
			Delivery{Action: "opened", Number: 7, RepositoryID: 3, Repository: "o/r", InstallationID: 9}, false},
		{"issue comment", `{"action":"created","issue":{"number":12},"repository":{"id":3,"full_name":"o/r"}}`,
			Delivery{Action: "created", Number: 12, RepositoryID: 3, Repository: "o/r"}, false},
		{"nulls are absent", `{"action":null,"installation":null}`, Delivery{}, false},
		{"no fields", `{}`, Delivery{}, false},
		{"array", `[1,2]`, Delivery{}, true},
		{"not JSON", `{"a":`, Delivery{}, true},
		{"trailing garbage", `{"a":1} x`, Delivery{}, true},
		{"string id", `{"installation":{"id":"9"}}`, Delivery{}, true},
		{"float id", `{"repository":{"id":3.5}}`, Delivery{}, true},
		{"huge id", `{"repository":{"id":99999999999999999999}}`, Delivery{}, true},
		{"number action", `{"action":1}`, Delivery{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Summarize([]byte(tt.payload))
			if (err != nil) != tt.bad {
				t.Fatalf("err %v, want bad=%t", err, tt.bad)
			}
			var d Delivery
			s.Apply(&d)
			if d.Action != tt.want.Action || d.Number != tt.want.Number || d.RepositoryID != tt.want.RepositoryID ||
				d.Repository != tt.want.Repository || d.InstallationID != tt.want.InstallationID {
				t.Fatalf("%+v, want %+v", d, tt.want)
			}
		})
	}
}

// FuzzSummarize: what Summarize accepts is JSON encoding/json accepts too
// (the payload is later read by it, in the job).
func FuzzSummarize(f *testing.F) {
	for _, s := range []string{`{}`, `{"action":"x","number":1}`, `{"a":"\u00e9\ud800"}`, `{"a":1e5}`, `{"a":[1,2,]}`, "{\"a\":\"\x01\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := Summarize(b); err == nil && !json.Valid(b) {
			t.Fatalf("Summarize accepted what encoding/json refuses: %q", b)
		}
	})
}

// summarizeGjson is what Summarize did before its skim: gjson reads each
// field by its path. Summarize must agree with it on every payload.
func summarizeGjson(payload []byte) (Summary, error) {
	if !gjson.ValidBytes(payload) || !gjson.ParseBytes(payload).IsObject() {
		return Summary{}, errors.New("not a JSON object")
	}
	r := gjson.GetManyBytes(payload, "action", "installation.id", "repository.id", "repository.full_name",
		"pull_request.number", "issue.number", "number")
	var f fields
	s := Summary{Action: f.str(r[0]), InstallationID: f.num(r[1]), RepositoryID: f.num(r[2]), Repository: f.str(r[3])}
	for _, n := range r[4:] {
		if v := f.num(n); v != 0 && s.Number == 0 {
			s.Number = int(v)
		}
	}
	return s, f.err
}

// TestSummarize_RealPayloads: on every real payload, the skim reads what
// gjson's paths read.
func TestSummarize_RealPayloads(t *testing.T) {
	files, err := filepath.Glob("../fixture/testdata/webhooks/*/*.json")
	if err != nil || len(files) < 50 {
		t.Fatalf("fixture payloads: %d, %v", len(files), err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, gerr := Summarize(b)
		want, werr := summarizeGjson(b)
		if got != want || (gerr != nil) != (werr != nil) {
			t.Errorf("%s: %+v (%v), want %+v (%v)", f, got, gerr, want, werr)
		}
	}
}

// FuzzSummarize_Skim: the skim agrees with gjson's paths on any input.
func FuzzSummarize_Skim(f *testing.F) {
	for _, s := range []string{`{}`, `{"action":"x","number":1}`, `{"pull_request":{"a":"\"}","number":3},"issue":[1],"repository":{"full_name":"o/r\\\\","id":2}}`,
		`{"act\u0069on":"x"}`, ` {"installation": {"id": 5 , "x":{"id":6}} } `, `{"number":1,"number":2}`, `{"repository":"x","number":-0}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, gerr := Summarize(b)
		want, werr := summarizeGjson(b)
		if gerr == nil && werr == nil && got != want || (gerr != nil) != (werr != nil) {
			t.Fatalf("%q: %+v (%v), want %+v (%v)", b, got, gerr, want, werr)
		}
	})
}
