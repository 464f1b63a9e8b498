package testsel

import (
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// memTree is a tree held in memory.
type memTree map[string]string

func (m memTree) Paths() []string {
	out := make([]string, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func (m memTree) Read(p string) ([]byte, error) {
	s, ok := m[p]
	if !ok {
		return nil, errors.New("no such file")
	}
	return []byte(s), nil
}

// mixed is a repository with Python (a src/ layout, relative imports, a
// conftest.py), TypeScript (relative imports, index files, .js names for
// .ts sources, require and dynamic import) and a Go module.
var mixed = memTree{
	"go.mod":                      "module example.com/m\n",
	"svc/svc.go":                  "package svc\n",
	"svc/svc_test.go":             "package svc\n",
	"src/shop/__init__.py":        "",
	"src/shop/cart.py":            "from .prices import total\n",
	"src/shop/prices.py":          "import math\n",
	"src/shop/orders.py":          "from shop import cart\n",
	"src/shop/util/__init__.py":   "",
	"src/shop/util/fmt.py":        "def fmt(x): return x\n",
	"tests/conftest.py":           "import pytest\n",
	"tests/test_cart.py":          "from shop.cart import total\n",
	"tests/test_orders.py":        "import shop.orders as o\n",
	"tests/test_fmt.py":           "from shop.util import fmt\n",
	"tests/api/test_health.py":    "import json\n",
	"web/src/lib/money.ts":        "export const cents = (x: number) => x * 100\n",
	"web/src/lib/index.ts":        "export * from './money'\n",
	"web/src/cart.tsx":            "import { cents } from './lib'\n",
	"web/src/cart.test.tsx":       "import { Cart } from './cart.js'\n",
	"web/src/legacy.js":           "const m = require('./lib/money')\n",
	"web/src/__tests__/legacy.js": "const l = require('../legacy')\n",
	"web/src/lazy.test.ts":        "const m = await import('./lib/money')\n",
	"web/package.json":            "{}\n",
	"docs/guide.md":               "# Guide\n",
	"README.md":                   "hi\n",
}

// TestSelectFiles: at file level, a change reaches the tests that import
// it, transitively; a conftest.py reaches the tests under it; a
// language's configuration selects everything, said so.
func TestSelectFiles(t *testing.T) {
	maps := []Mapping{{Glob: "docs/**", Targets: []string{"docs-lint"}}, {Glob: "README.md", Targets: []string{"docs-lint"}}}
	tests := []struct {
		name    string
		changed []string
		want    []string // kind:name
		all     string   // part of why, "" not all
	}{
		{"a module under a relative import", []string{"src/shop/prices.py"},
			[]string{"python:tests/test_cart.py", "python:tests/test_orders.py"}, ""},
		{"a package's __init__", []string{"src/shop/util/__init__.py"}, []string{"python:tests/test_fmt.py"}, ""},
		{"a conftest", []string{"tests/conftest.py"},
			[]string{"python:tests/api/test_health.py", "python:tests/test_cart.py", "python:tests/test_fmt.py", "python:tests/test_orders.py"}, ""},
		{"a test itself", []string{"tests/api/test_health.py"}, []string{"python:tests/api/test_health.py"}, ""},
		{"a TypeScript module through an index", []string{"web/src/lib/money.ts"},
			[]string{"javascript:web/src/__tests__/legacy.js", "javascript:web/src/cart.test.tsx", "javascript:web/src/lazy.test.ts"}, ""},
		{"a component by its .js name", []string{"web/src/cart.tsx"}, []string{"javascript:web/src/cart.test.tsx"}, ""},
		{"mapped docs", []string{"docs/guide.md", "README.md"}, []string{"policy:docs-lint"}, ""},
		{"Go beside them", []string{"svc/svc.go"}, []string{"go:example.com/m/svc"}, ""},
		{"package.json", []string{"web/package.json"}, nil, "web/package.json configures every javascript test"},
		{"an unmapped file outside every package", []string{"Makefile"}, nil, "Makefile is outside any package"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel := Select(mixed, tt.changed, maps)
			if tt.all != "" {
				if !sel.All || !strings.Contains(strings.Join(sel.Why, "; "), tt.all) {
					t.Fatalf("all %t, why %v", sel.All, sel.Why)
				}
				return
			}
			var got []string
			for _, target := range sel.Targets {
				got = append(got, target.Kind+":"+target.Name)
			}
			sort.Strings(got)
			if sel.All || !slices.Equal(got, tt.want) {
				t.Fatalf("selected %v (all %t: %v), want %v", got, sel.All, sel.Why, tt.want)
			}
		})
	}
	if got := Select(mixed, nil, nil).Total; got != 1+4+3 {
		t.Fatalf("total %d: 1 Go package, 4 Python and 3 JavaScript tests", got)
	}
}

// TestAttack_SelectFilesHostile: imports that climb out of the repository,
// absurd relative depths and huge lines select nothing wrong and never
// crash.
func TestAttack_SelectFilesHostile(t *testing.T) {
	tree := memTree{
		"a/x.test.ts":    "import '../../../../etc/passwd'\nimport './' + x\nrequire(`./y`)\n" + strings.Repeat("import ", 10000),
		"a/y.ts":         "export {}\n",
		"p/test_deep.py": "from .......... import nothing\nfrom . import (\n",
		"go.mod":         "module example.com/h\n",
	}
	sel := Select(tree, []string{"a/y.ts", "p/test_deep.py"}, nil)
	if sel.All {
		t.Fatalf("all: %v", sel.Why)
	}
	if names := sel.Names("python"); !slices.Equal(names, []string{"p/test_deep.py"}) {
		t.Fatalf("python %v", names)
	}
}

// TestSelectEmbedsAcrossLanguages: a JavaScript file a Go package embeds
// changes that package's code (and its importers), whatever else reads
// it; a file embedded by a package above the nearest one reaches both.
func TestSelectEmbedsAcrossLanguages(t *testing.T) {
	tree := memTree{
		"go.mod":            "module example.com/w\n",
		"ui/ui.go":          "package ui\n\nimport \"embed\"\n\n//go:embed static\nvar FS embed.FS\n",
		"ui/static/app.js":  "import './util.js'\n",
		"ui/static/util.js": "export {}\n",
		"srv/srv.go":        "package srv\n\nimport _ \"example.com/w/ui\"\n",
		"foo/foo.go":        "package foo\n\nimport \"embed\"\n\n//go:embed sub/data.txt\nvar F embed.FS\n",
		"foo/sub/sub.go":    "package sub\n",
		"foo/sub/data.txt":  "x\n",
	}
	for _, tt := range []struct {
		changed string
		want    []string
	}{
		{"ui/static/util.js", []string{"example.com/w/srv", "example.com/w/ui"}},
		{"foo/sub/data.txt", []string{"example.com/w/foo", "example.com/w/foo/sub"}},
	} {
		sel := Select(tree, []string{tt.changed}, nil)
		if sel.All || !slices.Equal(sel.Packages(), tt.want) {
			t.Errorf("%s: selected %v (all %t %v), want %v", tt.changed, sel.Packages(), sel.All, sel.Why, tt.want)
		}
	}
}

// TestSelectFilesUnsure: a parenthesized import over several lines is
// read; a source no test can be seen to reach (an alias import) selects
// everything, said so — never nothing.
func TestSelectFilesUnsure(t *testing.T) {
	tree := memTree{
		"pkg/__init__.py":  "",
		"pkg/mod_b.py":     "X = 1\n",
		"tests/test_b.py":  "from pkg import (\n    mod_a,  # first\n    mod_b,\n)\n",
		"web/util.ts":      "export {}\n",
		"web/page.test.ts": "import '@/util'\n",
	}
	if sel := Select(tree, []string{"pkg/mod_b.py"}, nil); sel.All || !slices.Equal(sel.Names("python"), []string{"tests/test_b.py"}) {
		t.Fatalf("multi-line import: %v (all %t %v)", sel.Names("python"), sel.All, sel.Why)
	}
	if sel := Select(tree, []string{"web/util.ts"}, nil); !sel.All || !strings.Contains(strings.Join(sel.Why, ";"), "web/util.ts reaches no javascript test") {
		t.Fatalf("alias import: all %t %v", sel.All, sel.Why)
	}
}

// TestAttack_SelectHugeChange: a pull request that changes four thousand
// chained packages is one walk, with at most ten reasons a target.
func TestAttack_SelectHugeChange(t *testing.T) {
	tree := memTree{"go.mod": "module example.com/big\n"}
	var changed []string
	for i := range 4000 {
		src := "package p\n"
		if i > 0 {
			src += "import _ \"example.com/big/p" + strconv.Itoa(i-1) + "\"\n"
		}
		name := "p" + strconv.Itoa(i) + "/p.go"
		tree[name] = src
		changed = append(changed, name)
	}
	sel := Select(tree, changed, nil)
	if sel.All || len(sel.Targets) != 4000 {
		t.Fatalf("%d targets, all %t", len(sel.Targets), sel.All)
	}
	for _, target := range sel.Targets {
		if len(target.Reasons) > maxReasons {
			t.Fatalf("%s: %d reasons", target.Name, len(target.Reasons))
		}
	}
}
