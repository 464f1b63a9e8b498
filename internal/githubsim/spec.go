package githubsim

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// GitHub's REST API description, as @octokit/openapi republishes it (see
// testdata/OPENAPI-SOURCES.md). Loading it takes about 2 s and 540 MB, so it
// is loaded once per test binary.
//
//go:embed testdata/api.github.com.json.gz
var specGz []byte

type spec struct {
	doc    *openapi3.T
	router routers.Router
}

var (
	specOnce sync.Once
	specVal  *spec
	specErr  error
)

func loadSpec() (*spec, error) {
	specOnce.Do(func() {
		zr, err := gzip.NewReader(bytes.NewReader(specGz))
		if err != nil {
			specErr = err
			return
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			specErr = err
			return
		}
		doc, err := openapi3.NewLoader().LoadFromData(raw)
		if err != nil {
			specErr = fmt.Errorf("load GitHub's OpenAPI description: %w", err)
			return
		}
		// Match any host: the simulator serves on a loopback port.
		doc.Servers = openapi3.Servers{{URL: "/"}}
		closeRequestBodies(doc)
		// doc.Validate always fails on this description (invalid examples);
		// the router does not need it.
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			specErr = fmt.Errorf("route GitHub's OpenAPI description: %w", err)
			return
		}
		specVal = &spec{doc: doc, router: router}
	})
	return specVal, specErr
}

// greedy are path parameters GitHub lets contain slashes (a file path, a
// ref like heads/main) while the description's router does not: their
// slashes are escaped before routing.
var greedy = []struct{ prefix, segment string }{
	{"/repos/", "/contents/"},
	{"/repos/", "/git/ref/"},
	{"/repos/", "/git/refs/"},
	{"/repos/", "/git/matching-refs/"},
}

func routable(p string) string {
	for _, g := range greedy {
		if !strings.HasPrefix(p, g.prefix) {
			continue
		}
		// /repos/{owner}/{repo}<segment><rest>
		parts := strings.SplitN(p, "/", 5)
		if len(parts) < 5 {
			continue
		}
		head := "/" + parts[1] + "/" + parts[2] + "/" + parts[3]
		rest := "/" + parts[4]
		after, ok := strings.CutPrefix(rest, g.segment)
		switch {
		case ok && after != "":
			return head + g.segment + strings.ReplaceAll(after, "/", "%2F")
		case ok && g.segment == "/contents/":
			return head + g.segment + "%2F" // the root directory: GitHub takes an empty path
		}
	}
	return p
}

// route finds the operation for a request.
func (s *spec) route(r *http.Request) (*routers.Route, map[string]string, error) {
	u := *r.URL
	u.RawPath = routable(r.URL.EscapedPath())
	u.Path, _ = url.PathUnescape(u.RawPath)
	rr := r.Clone(r.Context())
	rr.URL = &u
	route, params, err := s.router.FindRoute(rr)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range params {
		if uv, err := url.PathUnescape(v); err == nil {
			params[k] = uv
		}
	}
	return route, params, nil
}

func filterOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		MultiError:         true,
	}
}

// validateRequest checks method, path, query and body against the operation.
func validateRequest(ctx context.Context, r *http.Request, body []byte, route *routers.Route, params map[string]string) error {
	rr := r.Clone(ctx)
	rr.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{Request: rr, PathParams: params, Route: route, Options: filterOptions()}
	return openapi3filter.ValidateRequest(ctx, in)
}

// validateResponse checks the simulator's own answer.
func validateResponse(ctx context.Context, r *http.Request, route *routers.Route, params map[string]string, status int, h http.Header, body []byte) error {
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: filterOptions()},
		Status:                 status,
		Header:                 h,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	return openapi3filter.ValidateResponse(ctx, in)
}

// example returns a deep copy of the description's example response for an
// operation and status: the simulator fills its own state into GitHub's
// documented shape, so responses carry every field GitHub's do.
func (s *spec) example(route *routers.Route, status int) (any, error) {
	resp := route.Operation.Responses.Status(status)
	if resp == nil || resp.Value == nil {
		return nil, fmt.Errorf("no %d response for %s", status, route.Operation.OperationID)
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil {
		return nil, fmt.Errorf("no JSON %d response for %s", status, route.Operation.OperationID)
	}
	var ex any
	switch {
	case mt.Example != nil:
		ex = mt.Example
	default:
		names := make([]string, 0, len(mt.Examples))
		for name := range mt.Examples {
			names = append(names, name)
		}
		sort.Strings(names) // deterministic: "default" is usually first
		for _, name := range names {
			if e := mt.Examples[name]; e != nil && e.Value != nil {
				ex = e.Value.Value
				break
			}
		}
	}
	if ex == nil {
		return nil, fmt.Errorf("no example %d response for %s", status, route.Operation.OperationID)
	}
	b, err := json.Marshal(ex)
	if err != nil {
		return nil, err
	}
	var out any
	return out, json.Unmarshal(b, &out)
}
