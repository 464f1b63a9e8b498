package llm

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compile compiles a request's schema once per client: features ask with
// the same few schemas again and again.
func (c *Client) compile(s *Schema) (*jsonschema.Schema, error) {
	if v, ok := c.schemas.Load(string(s.JSON)); ok {
		return v.(*jsonschema.Schema), nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(s.JSON))
	if err != nil {
		return nil, fmt.Errorf("schema %s is not JSON: %w", s.Name, err)
	}
	comp := jsonschema.NewCompiler()
	if err := comp.AddResource("answer.schema.json", doc); err != nil {
		return nil, fmt.Errorf("schema %s: %w", s.Name, err)
	}
	compiled, err := comp.Compile("answer.schema.json")
	if err != nil {
		return nil, fmt.Errorf("schema %s does not compile: %w", s.Name, err)
	}
	c.schemas.Store(string(s.JSON), compiled)
	return compiled, nil
}

// checkAnswer returns the JSON of an answer (without a code fence around
// it) when it satisfies the schema and check, or what is wrong with it.
func checkAnswer(text string, schema *jsonschema.Schema, check func([]byte) error) (string, error) {
	js := stripFence(text)
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(js))
	if err != nil {
		return "", fmt.Errorf("not JSON: %w", err)
	}
	if err := schema.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return "", fmt.Errorf("does not satisfy the schema: %s", oneLine(ve.Error()))
		}
		return "", fmt.Errorf("does not satisfy the schema: %w", err)
	}
	if check != nil {
		if err := check([]byte(js)); err != nil {
			return "", err
		}
	}
	return js, nil
}

// stripFence takes a JSON answer out of the Markdown code fence some
// models wrap it in (```json … ```).
func stripFence(text string) string {
	s := strings.TrimSpace(text)
	if !strings.HasPrefix(s, "```") || !strings.HasSuffix(s, "```") || len(s) < 6 {
		return s
	}
	first, rest, ok := strings.Cut(s, "\n")
	if !ok || strings.Trim(first, "`") == first {
		return s
	}
	return strings.TrimSpace(strings.TrimRight(rest, "`"))
}
