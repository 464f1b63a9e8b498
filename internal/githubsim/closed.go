package githubsim

import "github.com/getkin/kin-openapi/openapi3"

// closeRequestBodies makes every request body schema closed: an object
// schema that names its properties rejects any other (a typo such as
// "conclussion"), where JSON Schema would let it pass. GitHub ignores
// unknown properties, so a misspelt one is a silent no-op in production;
// here it fails the test. Responses keep GitHub's open schemas: the
// closed ones are copies, hung only on the operations' request bodies.
func closeRequestBodies(doc *openapi3.T) {
	cl := closer{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			rb := *op.RequestBody.Value
			rb.Content = openapi3.Content{}
			for name, mt := range op.RequestBody.Value.Content {
				if mt == nil {
					continue
				}
				m := *mt
				m.Schema = cl.close(mt.Schema)
				rb.Content[name] = &m
			}
			op.RequestBody = &openapi3.RequestBodyRef{Value: &rb}
		}
	}
}

// closer copies schemas once each (shared $refs stay shared among the
// copies, and recursive schemas terminate). An alternative of an
// allOf/anyOf/oneOf is copied open: it sees the whole object, so closing
// it would reject the properties the others define.
type closer map[copyKey]*openapi3.Schema

type copyKey struct {
	s    *openapi3.Schema
	open bool
}

func (cl closer) close(ref *openapi3.SchemaRef) *openapi3.SchemaRef { return cl.copyRef(ref, false) }

func (cl closer) copyRef(ref *openapi3.SchemaRef, open bool) *openapi3.SchemaRef {
	if ref == nil || ref.Value == nil {
		return ref
	}
	return &openapi3.SchemaRef{Ref: ref.Ref, Value: cl.schema(ref.Value, open)}
}

func (cl closer) schema(s *openapi3.Schema, open bool) *openapi3.Schema {
	key := copyKey{s, open}
	if c, ok := cl[key]; ok {
		return c
	}
	c := *s
	cl[key] = &c
	c.Items = cl.close(s.Items)
	c.AdditionalProperties.Schema = cl.close(s.AdditionalProperties.Schema)
	c.Properties = cl.all(s.Properties)
	c.AllOf, c.AnyOf, c.OneOf = cl.alternatives(s.AllOf), cl.alternatives(s.AnyOf), cl.alternatives(s.OneOf)
	if open || s.AdditionalProperties.Has != nil || s.AdditionalProperties.Schema != nil {
		return &c
	}
	// The object accepts, besides its own properties, any its
	// alternatives name (checked by them, not here).
	named, free := composedNames(s, map[*openapi3.Schema]bool{})
	if len(named) == 0 || free {
		return &c
	}
	for name := range named {
		if _, ok := c.Properties[name]; !ok {
			if c.Properties == nil {
				c.Properties = openapi3.Schemas{}
			}
			c.Properties[name] = &openapi3.SchemaRef{Value: &openapi3.Schema{}}
		}
	}
	closed := false
	c.AdditionalProperties.Has = &closed
	return &c
}

func (cl closer) all(props openapi3.Schemas) openapi3.Schemas {
	if props == nil {
		return nil
	}
	out := make(openapi3.Schemas, len(props))
	for k, v := range props {
		out[k] = cl.close(v)
	}
	return out
}

func (cl closer) alternatives(refs openapi3.SchemaRefs) openapi3.SchemaRefs {
	if refs == nil {
		return nil
	}
	out := make(openapi3.SchemaRefs, len(refs))
	for i, r := range refs {
		out[i] = cl.copyRef(r, true)
	}
	return out
}

// composedNames are the properties s and its allOf/anyOf/oneOf
// alternatives name: what an object valid against s may hold. free: an
// alternative is a free-form object (no properties of its own, any
// others admitted), so no list bounds s. An alternative that lists
// properties and admits others (checks/update's) does not make s free:
// s's own list still bounds the object.
func composedNames(s *openapi3.Schema, seen map[*openapi3.Schema]bool) (names map[string]bool, free bool) {
	names = map[string]bool{}
	if s == nil || seen[s] {
		return names, false
	}
	seen[s] = true
	for name := range s.Properties {
		names[name] = true
	}
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, alt := range group {
			if alt == nil || alt.Value == nil {
				continue
			}
			a := alt.Value
			if len(a.Properties) == 0 && (a.AdditionalProperties.Schema != nil ||
				(a.AdditionalProperties.Has != nil && *a.AdditionalProperties.Has)) {
				return nil, true
			}
			sub, f := composedNames(a, seen)
			if f {
				return nil, true
			}
			for name := range sub {
				names[name] = true
			}
		}
	}
	return names, false
}
