package githubsim

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestClosedSchemasOnlyInRequests: request bodies are closed on copies;
// no schema a request body reaches is one a response reaches, so GitHub's
// responses (and the simulator's own checked against them) stay open.
func TestClosedSchemasOnlyInRequests(t *testing.T) {
	sp, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	inRequests, inResponses := map[*openapi3.Schema]bool{}, map[*openapi3.Schema]bool{}
	for _, item := range sp.doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					reach(mt.Schema, inRequests)
				}
			}
			for _, r := range op.Responses.Map() {
				if r.Value != nil {
					for _, mt := range r.Value.Content {
						reach(mt.Schema, inResponses)
					}
				}
			}
		}
	}
	shared := 0
	for s := range inRequests {
		if inResponses[s] {
			shared++
		}
	}
	if shared != 0 || len(inRequests) == 0 {
		t.Errorf("%d of %d request schemas are shared with responses", shared, len(inRequests))
	}
	if cr := sp.doc.Components.Schemas["check-run"].Value; cr.AdditionalProperties.Has != nil {
		t.Errorf("the check-run response schema was closed")
	}
}

func reach(ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	reach(s.Items, seen)
	reach(s.AdditionalProperties.Schema, seen)
	reach(s.Not, seen)
	for _, p := range s.Properties {
		reach(p, seen)
	}
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, alt := range group {
			reach(alt, seen)
		}
	}
}

// reporter stands in for *testing.T to catch what the simulator reports.
type reporter struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *reporter) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *reporter) reported() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errs, "\n")
}

// TestIncompleteResponseFailsTheTest: a handler that leaves out a field
// the description requires fails the test; nothing fills it in.
func TestIncompleteResponseFailsTheTest(t *testing.T) {
	rep := &reporter{TB: t}
	s := New(rep, Config{})
	s.AddInstallation(1, "acme")
	s.AddRepo(1, "acme/api")
	s.handlers["repos/get"] = func(c *call) response {
		obj := c.repoObject(c.object(http.StatusOK), c.repo())
		delete(obj, "full_name")
		return response{status: http.StatusOK, body: obj}
	}
	req, _ := http.NewRequest("GET", s.URL()+"repos/acme/api", nil)
	req.Header.Set("Authorization", "token "+s.InstallationToken(1))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := rep.reported(); !strings.Contains(got, `property "full_name" is missing`) {
		t.Errorf("reported %q, want the missing full_name", got)
	}
}
