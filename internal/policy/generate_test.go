package policy

import "testing"

// TestGenerateTests: tests.generate is off unless set to a level; another
// word is a schema error.
func TestGenerateTests(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"version: 1\n", ""},
		{"version: 1\ntests:\n  generate: off\n", ""},
		{"version: 1\ntests:\n  generate: medium\n", "medium"},
		{"version: 1\ntests:\n  generate: high\n", "high"},
	} {
		p, err := Parse([]byte(tc.yaml))
		if err != nil || p.GenerateTests != tc.want {
			t.Errorf("%q: %q %v, want %q", tc.yaml, p.GenerateTests, err, tc.want)
		}
	}
	if _, err := Parse([]byte("version: 1\ntests:\n  generate: low\n")); err == nil {
		t.Error("generate: low accepted")
	}
}
