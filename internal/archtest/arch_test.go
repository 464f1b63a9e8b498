// Package archtest fails the build when a package imports against the
// direction DESIGN.md §2 sets: vocabulary depends on nothing of ferry's,
// adapters never on the application or agents, only cmd wires everything.
package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/ferry-ci/ferry/"

// layer of each internal package; a package may import only lower layers
// (and its own). Test files are exempt: tests may wire real components.
var layer = map[string]int{
	// vocabulary and pure decisions: standard library and parsers only
	"event": 0, "cite": 0, "logctx": 0, "change": 0, "policy": 0, "command": 0, "keylock": 0, "md": 0,
	"audit": 1, "risk": 1, "riskmodel": 1, "route": 2, "calibrate": 2, "rollout": 1, "deploygate": 1, "release": 2, "promotion": 2, "testsel": 1, "dockerfile": 1,
	// the agents' vocabulary: what the adapters map to and from
	"control": 0, "install": 0, "forge": 0, "releasing": 0, "assessment": 2, "deploy": 2,
	// presentation, and adapters (jobs builds on store)
	"render": 3, "store": 3, "webhook": 3, "github": 3, "git": 3, "kube": 3, "prom": 3, "jobs": 4,
	// the model adapter sits below what uses it; testgen runs the go toolchain
	// on a clone the user chose (the CLI, never the server)
	"llm": 2, "testgen": 3,
	// generated-test pull requests as data, and their decisions
	"gentest": 2,
	// agents
	"riskagent": 4, "deployagent": 4, "releaseagent": 4, "testagent": 4, "buildagent": 4,
	// agents that compose agents: the promote agent ships with the deploy
	// agent what the risk agent assessed
	"promoteagent": 5,
	// application
	"app": 6,
	// test-only helpers
	"fixture": 1, "githubsim": 3, "dbtest": 7, "kubetest": 7, "promtest": 7, "testenv": 1, "mdtest": 1, "gittest": 1, "llmtest": 7,
}

func TestImportDirection(t *testing.T) {
	root := filepath.Join("..")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "archtest" {
			continue
		}
		pkg := e.Name()
		own, known := layer[pkg]
		if !known {
			t.Errorf("internal/%s has no layer in archtest: add it, following DESIGN.md §2", pkg)
			continue
		}
		for _, imp := range imports(t, filepath.Join(root, pkg)) {
			dep, ok := strings.CutPrefix(imp, module+"internal/")
			if !ok {
				continue
			}
			dep, _, _ = strings.Cut(dep, "/")
			if dep != pkg && layer[dep] >= own {
				t.Errorf("internal/%s (layer %d) imports internal/%s (layer %d)", pkg, own, dep, layer[dep])
			}
			if (dep == "fixture" || dep == "dbtest" || dep == "kubetest" || dep == "promtest" || dep == "testenv" || dep == "mdtest" || dep == "gittest" || dep == "llmtest") &&
				pkg != "dbtest" && pkg != "githubsim" && pkg != "kubetest" && pkg != "promtest" {
				t.Errorf("internal/%s imports test-only internal/%s outside a test", pkg, dep)
			}
		}
	}
}

func imports(t *testing.T, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range af.Imports {
			out = append(out, strings.Trim(i.Path.Value, `"`))
		}
	}
	return out
}

// sdks are the libraries that speak to the outside world; only adapters
// (and cmd/, which wires them) may import them. Agents and decisions speak
// ferry's own types.
var sdks = []string{
	"github.com/google/go-github", "github.com/bradleyfalzon/ghinstallation", "k8s.io/client-go", "k8s.io/api",
	"k8s.io/apimachinery", "github.com/riverqueue/river", "database/sql", "github.com/go-git/go-git",
	"github.com/sashabaranov/go-openai", "github.com/prometheus/client_golang", "github.com/jackc/pgx",
	"modernc.org/sqlite",
}

// adapters may import SDKs: the edges of DESIGN.md §2, and the test-only
// helpers that start real components.
var adapters = map[string]bool{
	"github": true, "webhook": true, "jobs": true, "store": true, "git": true, "kube": true, "prom": true, "llm": true,
	"notify": true, "llmtest": true, "githubsim": true, "dbtest": true, "kubetest": true, "promtest": true,
}

func TestSDKsOnlyInAdapters(t *testing.T) {
	entries, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || adapters[e.Name()] || e.Name() == "archtest" {
			continue
		}
		for _, imp := range imports(t, filepath.Join("..", e.Name())) {
			for _, sdk := range sdks {
				if imp == sdk || strings.HasPrefix(imp, sdk+"/") {
					t.Errorf("internal/%s imports %s: only adapters speak to SDKs (DESIGN.md §2)", e.Name(), imp)
				}
			}
		}
	}
}

// TestBinaryHasNoTestCode: the simulator (with GitHub's 13 MB description),
// the fixtures and the other test helpers never reach a binary ferry ships.
func TestBinaryHasNoTestCode(t *testing.T) {
	for _, cmd := range []string{"../../cmd/ferry", "../../cmd/ferrybench"} {
		out, err := exec.Command("go", "list", "-deps", cmd).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, banned := range []string{module + "internal/githubsim", module + "internal/fixture", module + "internal/dbtest",
				module + "internal/kubetest", module + "internal/promtest", module + "internal/testenv", module + "internal/mdtest", module + "internal/llmtest",
				"github.com/getkin/kin-openapi", "github.com/yuin/goldmark"} {
				if dep == banned || strings.HasPrefix(dep, banned+"/") {
					t.Errorf("%s depends on %s", cmd, dep)
				}
			}
		}
	}
}
