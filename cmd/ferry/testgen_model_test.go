package main

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/llmtest"
)

// testgenReport is the part of `ferry testgen --format json` these tests read.
type testgenReport struct {
	Candidates int `json:"candidates"`
	Kept       []struct {
		Test, Origin  string
		MutantsKilled int `json:"mutants_killed"`
	} `json:"kept"`
	Dropped []struct{ Test, Stage, Origin string } `json:"dropped"`
	Before  float64                                `json:"changed_lines_coverage_before"`
	After   float64                                `json:"changed_lines_coverage_after"`
	LLM     *struct {
		Model        string `json:"model"`
		Calls        int    `json:"calls"`
		PromptTokens int    `json:"prompt_tokens"`
	} `json:"llm"`
}

// wrapTests is what the scripted model answers about Wrap: one test that
// earns its place and one for each way to fail the filter.
func wrapTests() string {
	type test struct {
		Name    string   `json:"name"`
		Code    string   `json:"code"`
		Imports []string `json:"imports"`
	}
	tests := []test{
		{Name: "TestWrapTable", Imports: []string{"testing"}, Code: `func TestWrapTable(t *testing.T) {
	for _, tt := range []struct{ v, n, want int }{{7, 5, 2}, {-1, 5, 4}, {5, 5, 0}, {3, 0, 0}} {
		if got := Wrap(tt.v, tt.n); got != tt.want {
			t.Errorf("Wrap(%d, %d) = %d, want %d", tt.v, tt.n, got, tt.want)
		}
	}
}`},
		{Name: "TestWrapTypo", Imports: []string{"testing"}, Code: "func TestWrapTypo(t *testing.T) {\n\tif Wrapp(1, 2) != 1 {\n\t\tt.Fatal(1)\n\t}\n}"},
		{Name: "TestWrapNothing", Imports: []string{"testing"}, Code: "func TestWrapNothing(t *testing.T) {\n\tt.Log(\"nothing\")\n}"},
		// Fails on the second of the filter's three runs (one process): a
		// counter in its own package-level variable.
		{Name: "TestWrapFlaky", Imports: []string{"testing"}, Code: `var testWrapFlakyRuns int

func TestWrapFlaky(t *testing.T) {
	testWrapFlakyRuns++
	if testWrapFlakyRuns == 2 || Wrap(7, 5) != 2 {
		t.Fatalf("run %d", testWrapFlakyRuns)
	}
}`},
		{Name: "TestWrapSmoke", Imports: []string{"testing"}, Code: "func TestWrapSmoke(t *testing.T) {\n\tfor v := -6; v < 7; v++ {\n\t\t_ = Wrap(v, 5)\n\t}\n}"},
	}
	b, _ := json.Marshal(map[string]any{"tests": tests})
	return string(b)
}

// TestTestgen_ScriptedModel: `ferry testgen` with a model (the real
// go-openai client against a scripted OpenAI-compatible server) that
// answers one good test and four that fail the filter, one at each stage:
// exactly the good one is kept, and what the model cost is reported.
func TestTestgen_ScriptedModel(t *testing.T) {
	r, base, head := clampChange(t)
	srv := llmtest.New(t)
	srv.Respond(func(c llmtest.Call) llmtest.Reply {
		for _, m := range c.Messages {
			if m.Role == "user" && strings.Contains(m.Content, "func Wrap(") {
				return llmtest.Reply{Content: wrapTests(), PromptTokens: 700, CompletionTokens: 400}
			}
		}
		return llmtest.Reply{Content: `{"tests":[]}`, PromptTokens: 500, CompletionTokens: 5}
	})
	var out, progress bytes.Buffer
	err := run(context.Background(), []string{"testgen", "--repo", r.Dir, "--base", base, "--head", head, "--format", "json",
		"--llm-url", srv.URL(), "--llm-model", "coder-1"}, &out, &progress)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	var rep testgenReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Kept) != 1 || rep.Kept[0].Test != "TestWrapTable" || rep.Kept[0].Origin != "llm coder-1" {
		t.Errorf("kept %+v\n%s", rep.Kept, progress.String())
	}
	stages := map[string]string{}
	for _, d := range rep.Dropped {
		stages[d.Test] = d.Stage
	}
	want := map[string]string{"TestWrapTypo": "compile", "TestWrapNothing": "coverage", "TestWrapFlaky": "flaky", "TestWrapSmoke": "mutants"}
	if d := cmp.Diff(want, stages); d != "" {
		t.Errorf("dropped at (-want +got):\n%s\n%s", d, progress.String())
	}
	if rep.LLM == nil || rep.LLM.Model != "coder-1" || rep.LLM.Calls != 2 || rep.LLM.PromptTokens != 1200 {
		t.Errorf("llm %+v", rep.LLM)
	}
	if !(rep.Before < rep.After) {
		t.Errorf("coverage %.2f → %.2f", rep.Before, rep.After)
	}
	t.Logf("candidates %d, kept %d, coverage of changed lines %.2f → %.2f", rep.Candidates, len(rep.Kept), rep.Before, rep.After)
}

// TestTestgen_NoModel: without a model the command proposes
// characterization tests and fuzz targets made from the code, and keeps
// only those that pass the same filter.
func TestTestgen_NoModel(t *testing.T) {
	r, base, head := clampChange(t)
	var out, progress bytes.Buffer
	err := run(context.Background(), []string{"testgen", "--repo", r.Dir, "--base", base, "--head", head, "--format", "json"}, &out, &progress)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	var rep testgenReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Candidates == 0 || len(rep.Kept) == 0 || rep.LLM != nil {
		t.Fatalf("candidates %d, kept %+v, llm %+v\n%s", rep.Candidates, rep.Kept, rep.LLM, progress.String())
	}
	var origins []string
	for _, k := range rep.Kept {
		origins = append(origins, k.Origin)
		if k.MutantsKilled == 0 {
			t.Errorf("%s kept without killing a mutant", k.Test)
		}
	}
	for _, d := range rep.Dropped {
		origins = append(origins, d.Origin)
		t.Logf("dropped %s (%s) at %s", d.Test, d.Origin, d.Stage)
	}
	for _, o := range origins {
		if o != "characterization" && o != "fuzz" {
			t.Errorf("origin %q without a model", o)
		}
	}
	sort.Strings(origins)
	t.Logf("candidates %d (%v), kept %d, coverage of changed lines %.2f → %.2f", rep.Candidates, origins, len(rep.Kept), rep.Before, rep.After)
	if !(rep.Before < rep.After) {
		t.Errorf("coverage %.2f → %.2f", rep.Before, rep.After)
	}
}
