package event

import (
	"encoding/json"
	"testing"
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
