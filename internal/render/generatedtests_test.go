package render

import (
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/gentest"
	"github.com/ferry-ci/ferry/internal/mdtest"
)

func generatedRecord() gentest.Record {
	return gentest.Record{Number: 12, HeadSHA: "9f3c2a1b7d4e5f60718293a4b5c6d7e8f9012345", Tip: "1a2b3c4d5e6f708192a3b4c5d6e7f80912345678", Round: 2,
		Candidates: []gentest.Candidate{
			{Name: "TestClamp_Bounds", File: "calc/clamp_gen_test.go", Origin: "llm gpt-test", Target: "Clamp", Kept: true},
			{Name: "FuzzParse", File: "calc/parse_fuzz_test.go", Origin: "fuzz", Target: "Parse", Kept: true},
			{Name: "TestClamp_Negative", File: "calc/clamp_neg_gen_test.go", Origin: "llm gpt-test", Target: "Clamp",
				Reason: "failed in check run test", Round: 1},
		},
		Usage: gentest.Usage{Model: "gpt-test", PromptTokens: 1830, CompletionTokens: 412}}
}

func TestGeneratedTestsBody(t *testing.T) {
	r := mustRenderer(t)
	checks := []gentest.Check{
		{Name: "test", Conclusion: "success", URL: "https://github.com/acme/api/runs/42",
			Output: "ok  \texample.com/m/calc\t0.01s\tcoverage: 81.2% of statements"},
		{Name: "lint", Conclusion: "success", URL: "https://evil.example/acme/api/runs/43"},
	}
	got, err := r.GeneratedTests(NewGeneratedTestsView(generatedRecord(), checks, "https://github.com/acme/api"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "generated-tests.md", got)
	if !strings.Contains(got, "[test](https://github.com/acme/api/runs/42)") || strings.Contains(got, "evil.example") {
		t.Fatalf("links:\n%s", got)
	}
	rec := generatedRecord()
	rec.Usage, rec.Round = gentest.Usage{}, 1
	got, err = r.GeneratedTests(NewGeneratedTestsView(rec, checks[1:], "https://github.com/acme/api"))
	if err != nil || !strings.Contains(got, "without a model (fuzz targets)") {
		t.Fatalf("%v:\n%s", err, got)
	}
}

// TestAttack_GeneratedTestsBodyInjection: test names, paths, targets,
// origins, check names and their links come from a model, a repository or
// another App: the body renders no link, image, HTML or mention from them.
func TestAttack_GeneratedTestsBodyInjection(t *testing.T) {
	r := mustRenderer(t)
	rec := generatedRecord()
	var checks []gentest.Check
	for i, h := range mdtest.Hostile {
		rec.Candidates = append(rec.Candidates, gentest.Candidate{Name: "Test" + h, File: h + "/x_test.go", Origin: "llm " + h, Target: h, Kept: i%2 == 0,
			Reason: "failed: " + h, Round: 1})
		checks = append(checks, gentest.Check{Name: h, Conclusion: "success", URL: "https://github.com/acme/api/runs/1)" + h,
			Output: "ok  \t" + h + "\t0.1s\tcoverage: 1.0% of statements"})
	}
	checks = append(checks, gentest.Check{Name: "x", Conclusion: h0(), URL: "javascript:alert(1)"})
	rec.Usage.Model = mdtest.Hostile[3]
	got, err := r.GeneratedTests(NewGeneratedTestsView(rec, checks, "https://github.com/acme/api"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "generated-tests-hostile.md", got)
	for _, p := range mdtest.Problems(got) {
		t.Errorf("%s", p)
	}
}

func h0() string { return mdtest.Hostile[0] }
