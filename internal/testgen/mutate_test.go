package testgen

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMutate: each operator and boundary mutation, on the changed lines
// only, as the line reads in the mutant.
func TestMutate(t *testing.T) {
	tests := []struct {
		name string
		body string // the function body's one changed line
		want []string
	}{
		{"less", "ok = a < b", []string{"ok = a <= b"}},
		{"less or equal", "ok = a <= b", []string{"ok = a < b"}},
		{"greater", "ok = a > b", []string{"ok = a >= b"}},
		{"greater or equal", "ok = a >= b", []string{"ok = a > b"}},
		{"equal", "ok = a == b", []string{"ok = a != b"}},
		{"not equal", "ok = a != b", []string{"ok = a == b"}},
		{"plus", "n = a + b", []string{"n = a - b"}},
		{"minus", "n = a - b", []string{"n = a + b"}},
		{"times", "n = a * b", []string{"n = a / b"}},
		{"and", "ok = ok && a > b", []string{"ok = ok || a > b", "ok = ok && a >= b"}},
		{"or", "ok = ok || ok", []string{"ok = ok && ok"}},
		{"add assign", "n += a", []string{"n -= a"}},
		{"sub assign", "n -= a", []string{"n += a"}},
		{"increment", "n++", []string{"n--"}},
		{"true", "ok = true", []string{"ok = false"}},
		{"false", "ok = false", []string{"ok = true"}},
		{"not", "ok = !ok", []string{"ok = ok"}},
		{"integer boundary", "n = a + 7", []string{"n = a - 7", "n = a + 8", "n = a + 6"}},
		{"zero goes negative in parentheses", "n = a - 0", []string{"n = a + 0", "n = a - 1", "n = a - (-1)"}},
		{"a field named true is a field", "ok = s.true", nil},
		{"no operator", "n = a", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "package p\n\nfunc f(a, b int, ok bool, s struct{ true bool }) (n int) {\n\t" + tt.body + "\n\tn = a + 1\n\treturn n\n}\n"
			ms, err := Mutate("p.go", []byte(src), []int{4}, 12)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range ms {
				if m.Line != 4 || m.File != "p.go" {
					t.Errorf("mutant at %s:%d, want p.go:4", m.File, m.Line)
				}
				got = append(got, strings.TrimSpace(strings.Split(string(m.Source), "\n")[3]))
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("mutants of %q (-want +got):\n%s", tt.body, d)
			}
		})
	}
}

// TestMutate_SpreadAndCap: the cap takes a first mutation from every line
// before a second from any.
func TestMutate_SpreadAndCap(t *testing.T) {
	src := []byte("package p\n\nfunc f(a, b int) bool {\n\tx := a+1 > b-2\n\ty := a < b\n\treturn x && y\n}\n")
	ms, err := Mutate("p.go", src, []int{4, 5, 6}, 4)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Description)
	}
	want := []string{"> → >=", "< → <=", "&& → ||", "+ → -"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if !bytes.Contains(ms[0].Source, []byte("x := a+1 >= b-2")) {
		t.Errorf("first mutant:\n%s", ms[0].Source)
	}
}
