package githubsim

import (
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
)

// complete adds to a response body every property the description requires
// and the simulator does not model (GitHub's own examples omit some), with
// a placeholder of the right type: null where allowed, else the first enum
// value, else an empty value. Values the simulator set are left alone, so
// the response check still catches a wrong one.
func complete(route *routers.Route, status int, body any) any {
	resp := route.Operation.Responses.Status(status)
	if resp == nil || resp.Value == nil {
		return body
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil {
		return body
	}
	return fill(mt.Schema, body, 0)
}

func fill(ref *openapi3.SchemaRef, v any, depth int) any {
	if ref == nil || ref.Value == nil || depth > 24 {
		return v
	}
	s := ref.Value
	for _, sub := range s.AllOf {
		v = fill(sub, v, depth+1)
	}
	if alts := append(append([]*openapi3.SchemaRef{}, s.AnyOf...), s.OneOf...); len(alts) > 0 {
		if m, ok := v.(map[string]any); ok {
			for _, alt := range alts {
				if alt.Value != nil && (alt.Value.Type.Is("object") || len(alt.Value.Properties) > 0) {
					return fill(alt, m, depth+1)
				}
			}
		}
		return v
	}
	switch v := v.(type) {
	case map[string]any:
		for _, name := range s.Required {
			if _, ok := v[name]; !ok {
				v[name] = placeholder(s.Properties[name], depth+1)
			}
		}
		for k, pv := range v {
			if ps, ok := s.Properties[k]; ok {
				v[k] = fill(ps, pv, depth+1)
			}
		}
		return v
	case []any:
		for i := range v {
			v[i] = fill(s.Items, v[i], depth+1)
		}
		return v
	}
	return v
}

func placeholder(ref *openapi3.SchemaRef, depth int) any {
	if ref == nil || ref.Value == nil || depth > 24 {
		return nil
	}
	s := ref.Value
	if s.Nullable {
		return nil
	}
	if len(s.AllOf) > 0 {
		v := placeholder(s.AllOf[0], depth+1)
		for _, sub := range s.AllOf[1:] {
			v = fill(sub, v, depth+1)
		}
		return v
	}
	for _, alts := range [][]*openapi3.SchemaRef{s.AnyOf, s.OneOf} {
		if len(alts) > 0 {
			return placeholder(alts[0], depth+1)
		}
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	switch {
	case s.Type.Is("string"):
		switch s.Format {
		case "date-time":
			return "2026-01-01T00:00:00Z"
		case "uri":
			return "https://github.com"
		case "email":
			return "octocat@github.com"
		}
		return ""
	case s.Type.Is("integer"), s.Type.Is("number"):
		return 0
	case s.Type.Is("boolean"):
		return false
	case s.Type.Is("array"):
		return []any{}
	case s.Type.Is("object"), len(s.Properties) > 0:
		return fill(ref, map[string]any{}, depth+1)
	}
	return nil
}
