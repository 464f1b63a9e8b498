package md

import (
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain words", "plain words"},
		{"ferry-ci/api", "ferry-ci/api"},
		{"@org/all please", "@&#8203;org/all please"},
		{"![x](https://evil.example/a.png)", `\!\[x\](https\://evil.example/a.png)`},
		{"</details>", `\</details\>`},
		{"```", "\\`\\`\\`"},
		{"a\n# heading", "a # heading"},
		{"# heading", `\# heading`},
		{"- item", `\- item`},
		{"1. first", `1\. first`},
		{"visit www.evil.com", `visit www\.evil.com`},
		{"a | b", `a \| b`},
		{"&#64;user", "&amp;#64;user"},
		{"10:30", "10:30"},
	} {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCode(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"path/to/file.go", "`path/to/file.go`"},
		{"we`ird", "``we`ird``"},
		{"`start", "`` `start ``"},
		{"a``b", "```a``b```"},
		{"", "`  `"},
		{"two\nlines", "`two lines`"},
		{"@org/all", "`@org/all`"},
	} {
		if got := Code(tt.in); got != tt.want {
			t.Errorf("Code(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzCode: whatever s holds, the span opens and closes with the same
// fence and nothing inside has a run of backticks that long.
func FuzzCode(f *testing.F) {
	for _, s := range []string{"a", "`", "``x``", " ` "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Code(s)
		n := len(c) - len(strings.TrimLeft(c, "`"))
		fence := strings.Repeat("`", n)
		inner := strings.TrimSuffix(c[n:], fence)
		if len(inner) == len(c[n:]) || strings.Contains(inner, fence) || strings.ContainsAny(inner, "\n\r") {
			t.Fatalf("Code(%q) = %q can be closed early", s, c)
		}
	})
}

func FuzzFence(f *testing.F) {
	for _, s := range []string{"", "```\n</details>", "a\r\nb", "~~~~\n````"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Fence(s, "dockerfile")
		lines := strings.Split(out, "\n")
		fence := strings.TrimSuffix(lines[0], "dockerfile")
		for _, l := range lines[1 : len(lines)-1] {
			if strings.HasPrefix(strings.TrimLeft(l, " "), fence) {
				t.Fatalf("line %q closes the fence %q", l, fence)
			}
		}
		if lines[len(lines)-1] != fence {
			t.Fatalf("last line %q is not the fence", lines[len(lines)-1])
		}
	})
}
