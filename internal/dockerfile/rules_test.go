package dockerfile

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// dirContext reads a test build context (nil when the case has none).
func dirContext(dir string) func(string) ([]byte, bool) {
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	return func(name string) ([]byte, bool) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return nil, true
		}
		data, err := os.ReadFile(p)
		return data, err == nil
	}
}

// report renders what a case produces: findings, then the rewrite.
func report(t *testing.T, src []byte, o Options) string {
	t.Helper()
	f, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, fd := range Analyze(f, o) {
		fmt.Fprintf(&b, "%d [%s] stage %s: %s fixable=%t\n", fd.Line, fd.Rule, fd.Stage, fd.Message, fd.Fixable)
		if fd.Suggestion != "" {
			fmt.Fprintf(&b, "    suggest: %s\n", strings.ReplaceAll(fd.Suggestion, "\n", "\n             "))
		}
	}
	rw, err := Fix(context.Background(), f, o)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "--- rewrite: parses=%t llb=%t contract=%t fewer=%t\n", rw.Checks.Parses, rw.Checks.LLB, rw.Checks.Contract, rw.Checks.FewerFindings)
	for _, fd := range rw.Applied {
		fmt.Fprintf(&b, "applied %s at %d\n", fd.Rule, fd.Line)
	}
	for _, d := range rw.Dropped {
		fmt.Fprintf(&b, "dropped %s at %d: %s\n", d.Rule, d.Line, d.Why)
	}
	if rw.Changed() {
		if !rw.Checks.OK() {
			t.Errorf("rewrite fails its checks: %+v", rw.Checks)
		}
		b.WriteString(string(rw.Text))
	}
	return b.String()
}

// TestRules: one golden per rule (and per case a rule must get right),
// findings and the proven rewrite together.
func TestRules(t *testing.T) {
	cases, _ := filepath.Glob("testdata/rules/*.Dockerfile")
	seen := map[string]bool{}
	for _, name := range cases {
		base := strings.TrimSuffix(name, ".Dockerfile")
		t.Run(filepath.Base(base), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			got := report(t, src, Options{Context: dirContext(base + ".context"), Name: "Dockerfile"})
			for _, r := range Rules {
				if strings.Contains(got, "["+r.ID+"]") {
					seen[r.ID] = true
				}
			}
			golden := base + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/dockerfile -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs:\n%s", golden, got)
			}
		})
	}
	for _, r := range Rules {
		if !seen[r.ID] {
			t.Errorf("rule %s has no golden case", r.ID)
		}
	}
}
