package testgen

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/gittest"
)

// TestFilter_SameNameKeptOnce: two targets in one package, each given a
// test named TestEdges (two model answers may): each would pass alone, but
// only the first is kept, so what --write writes still builds.
func TestFilter_SameNameKeptOnce(t *testing.T) {
	r := gittest.New(t)
	base := r.Commit("base", map[string]string{"go.mod": "module example.com/p\n\ngo 1.22\n",
		"p.go": "package p\n\nfunc F(x int) int { return x }\n\nfunc G(x int) int { return x }\n"})
	head := r.Commit("head", map[string]string{
		"p.go": "package p\n\nfunc F(x int) int {\n\tif x > 10 {\n\t\treturn 10\n\t}\n\treturn x\n}\n\nfunc G(x int) int {\n\tif x < 0 {\n\t\treturn 0\n\t}\n\treturn x\n}\n"})
	mk := func(target, file, call string) Candidate {
		src := "package p\n\nimport \"testing\"\n\nfunc TestEdges(t *testing.T) {\n\tfor _, c := range [][2]int{{-5, " + call + "(-5)}, {0, 0}, {10, 10}, {11, 11}, {20, 20}} {\n\t\t_ = c\n\t}\n"
		if target == "F" {
			src += "\tif F(11) != 10 || F(10) != 10 || F(3) != 3 {\n\t\tt.Fatal(F(11))\n\t}\n}\n"
		} else {
			src += "\tif G(-1) != 0 || G(0) != 0 || G(3) != 3 {\n\t\tt.Fatal(G(-1))\n\t}\n}\n"
		}
		return Candidate{Name: "TestEdges", File: file, Source: src, Origin: "llm m", Target: target}
	}
	cands := []Candidate{mk("F", "ferry_gen_f_1_test.go", "F"), mk("G", "ferry_gen_g_1_test.go", "G")}
	rep, err := Generate(context.Background(), Options{Repo: r.Dir, Base: base, Head: head, Generator: &fixed{cands: cands},
		Filter: FilterConfig{Env: testEnv}, Timeout: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range rep.Dropped {
		t.Logf("dropped %s (%s) at %s: %s", d.Test, d.File, d.Stage, d.Reason)
	}
	for _, k := range rep.Kept {
		t.Logf("kept %s in %s", k.Test, k.File)
	}
	if len(rep.Kept) != 1 || len(rep.Dropped) != 1 || rep.Dropped[0].Stage != StageCompile {
		t.Errorf("kept %d, dropped %+v", len(rep.Kept), rep.Dropped)
	}
	files, err := WriteKept(context.Background(), r.Dir, rep)
	t.Logf("wrote %v, %v", files, err)
	cmd := exec.Command("go", "vet", ".")
	cmd.Dir = r.Dir
	cmd.Env = append(cmd.Environ(), testEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("the package no longer builds after --write: %v\n%s", err, strings.TrimSpace(string(out)))
	}
}
