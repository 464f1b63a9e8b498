package cite

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func TestParse(t *testing.T) {
	known := map[int]bool{3: true, 7: true}
	for _, tc := range []struct {
		name, answer string
		want         []Text
		err          string
	}{
		{name: "kept, sorted, clipped to one line", answer: `{"h":[{"text":"Faster\n  builds (#7)","prs":[7,3,7]}]}`,
			want: []Text{{Text: "Faster builds (#7)", PRs: []int{3, 7}}}},
		{name: "an unknown number in the list", answer: `{"h":[{"text":"x","prs":[9]}]}`, err: "cites #9"},
		{name: "an unknown number in the words", answer: `{"h":[{"text":"see #12","prs":[3]}]}`, err: "cites #12"},
		{name: "citing nothing: dropped", answer: `{"h":[{"text":"vague","prs":[]}]}`},
		{name: "at most max", answer: `{"h":[{"text":"a","prs":[3]},{"text":"b","prs":[3]},{"text":"c","prs":[3]}]}`,
			want: []Text{{Text: "a", PRs: []int{3}}, {Text: "b", PRs: []int{3}}}},
		{name: "not JSON", answer: `nope`, err: "not JSON"},
		{name: "an issue as GH-n", answer: `{"h":[{"text":"fixes GH-9999","prs":[3]}]}`, err: `"GH-9999"`},
		{name: "another repository's number", answer: `{"h":[{"text":"closes evil/repo#7","prs":[7]}]}`, err: `"evil/repo#7"`},
		{name: "a commit", answer: `{"h":[{"text":"reverts 0123abc4567","prs":[3]}]}`, err: `"0123abc4567"`},
		{name: "a hex-looking word", answer: `{"h":[{"text":"defaced pages fixed","prs":[3]}]}`,
			want: []Text{{Text: "defaced pages fixed", PRs: []int{3}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.answer), "h", 2, 40, known)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestLines(t *testing.T) {
	type e struct{ PR int }
	got := Lines([]e{{1}, {2}, {3}}, 20)
	if got != "{\"PR\":1}\n{\"PR\":2}\n(1 more changes not shown)\n" {
		t.Errorf("%q", got)
	}
}

// TestSchema: the schema holds exactly what Parse reads — the texts under
// the field, each with its text and the pull requests it cites — within
// its bounds.
func TestSchema(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema("highlights", 1, 2, 3)))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("s.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("s.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		answer string
		valid  bool
	}{
		{`{"highlights":[{"text":"Faster builds","prs":[1,2]}]}`, true},
		{`{"highlights":[{"text":"a","prs":[1]},{"text":"b","prs":[2]}]}`, true},
		{`{"highlights":[]}`, false},                                                                     // fewer than minItems
		{`{"highlights":[{"text":"a","prs":[1]},{"text":"b","prs":[2]},{"text":"c","prs":[3]}]}`, false}, // more than maxItems
		{`{"highlights":[{"text":"a","prs":[1,2,3,4]}]}`, false},                                         // more than maxPRs
		{`{"highlights":[{"text":"a","prs":[]}]}`, false},                                                // cites nothing
		{`{"highlights":[{"text":"a","prs":[0]}]}`, false},                                               // not a pull request number
		{`{"highlights":[{"text":"","prs":[1]}]}`, false},                                                // empty text
		{`{"highlights":[{"text":"a","prs":[1],"url":"x"}]}`, false},                                     // another field
		{`{"highlights":[{"text":"a","prs":[1]}],"note":"x"}`, false},                                    // another field at the top
		{`{"sentences":[{"text":"a","prs":[1]}]}`, false},                                                // another list
	} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.answer))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(v); (err == nil) != tt.valid {
			t.Errorf("%s: valid %t (%v)", tt.answer, err == nil, err)
		}
	}
}
