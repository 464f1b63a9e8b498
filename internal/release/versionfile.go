package release

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v4"
)

// VersionFile is a file the version is written into: "VERSION" (the
// whole file), "package.json#version" (a JSON path, dot-separated),
// "Chart.yaml#appVersion" (a YAML path, the first document), or
// "version.go#Version" (a Go string const or var; "Version" when no name
// is given).
type VersionFile struct {
	Path  string
	Field string
	Kind  FileKind
}

// FileKind is how a version file is read.
type FileKind string

// Kinds of version file.
const (
	PlainFile FileKind = "plain"
	JSONFile  FileKind = "json"
	YAMLFile  FileKind = "yaml"
	GoFile    FileKind = "go"
)

// ParseVersionFile reads a version file's specification.
func ParseVersionFile(spec string) (VersionFile, error) {
	p, field, _ := strings.Cut(spec, "#")
	f := VersionFile{Path: p, Field: field, Kind: PlainFile}
	switch strings.ToLower(path.Ext(p)) {
	case ".json":
		f.Kind = JSONFile
	case ".yaml", ".yml":
		f.Kind = YAMLFile
	case ".go":
		f.Kind, f.Field = GoFile, firstNonEmpty(field, "Version")
	}
	switch {
	case p == "":
		return f, fmt.Errorf("version file %q: no path", spec)
	case (f.Kind == JSONFile || f.Kind == YAMLFile) && field == "":
		return f, fmt.Errorf("version file %q: name the field, e.g. %s#version", spec, p)
	case f.Kind == PlainFile && field != "":
		return f, fmt.Errorf("version file %q: only .json, .yaml and .go files have fields", spec)
	}
	return f, nil
}

// EditVersionFile writes version into a file's content and returns the
// new content. Only the value's bytes change — comments, order, spacing
// and quoting survive — and a "v" the old value started with is kept.
// The result is parsed again and the value read back; an error says why
// when it does not match.
func EditVersionFile(spec string, content []byte, version string) ([]byte, error) {
	f, err := ParseVersionFile(spec)
	if err != nil {
		return nil, err
	}
	var (
		out    []byte
		wrote  string
		reread func([]byte) (string, error)
	)
	switch f.Kind {
	case JSONFile:
		keys := strings.Split(f.Field, ".")
		out, wrote, err = editJSON(content, keys, version)
		reread = func(b []byte) (string, error) { return readJSON(b, keys) }
	case YAMLFile:
		keys := strings.Split(f.Field, ".")
		out, wrote, err = editYAML(content, keys, version)
		reread = func(b []byte) (string, error) { s, _, err := findYAML(b, keys); return s.Value, err }
	case GoFile:
		out, wrote, err = editGo(content, f.Field, version)
		reread = func(b []byte) (string, error) { v, _, _, err := findGo(b, f.Field); return v, err }
	case PlainFile:
		out, wrote = editPlain(content, version)
		reread = func(b []byte) (string, error) { return string(bytes.TrimSpace(b)), nil }
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	if got, err := reread(out); err != nil || got != wrote {
		return nil, fmt.Errorf("%s: the edited file reads %q, not %q (%v)", spec, got, wrote, err)
	}
	return out, nil
}

// withV keeps the old value's "v" prefix.
func withV(old, version string) string {
	if strings.HasPrefix(old, "v") && !strings.HasPrefix(version, "v") {
		return "v" + version
	}
	return version
}

func splice(b []byte, start, end int, with string) []byte {
	out := make([]byte, 0, len(b)-(end-start)+len(with))
	out = append(out, b[:start]...)
	out = append(out, with...)
	return append(out, b[end:]...)
}

// editPlain replaces the file's text, keeping the whitespace around it.
func editPlain(b []byte, version string) ([]byte, string) {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return []byte(version + "\n"), version
	}
	start := bytes.Index(b, trimmed)
	v := withV(string(trimmed), version)
	return splice(b, start, start+len(trimmed), v), v
}

// editJSON finds the string at keys by walking the tokens, and replaces
// its bytes.
func editJSON(b []byte, keys []string, version string) ([]byte, string, error) {
	start, end, err := findJSON(b, keys)
	if err != nil {
		return nil, "", err
	}
	var old string
	if err := json.Unmarshal(b[start:end], &old); err != nil {
		return nil, "", fmt.Errorf("%s is not a string", strings.Join(keys, "."))
	}
	v := withV(old, version)
	q, _ := json.Marshal(v)
	return splice(b, start, end, string(q)), v, nil
}

// findJSON returns the byte span of the value at keys.
func findJSON(b []byte, keys []string) (int, int, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	for depth, key := range keys {
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return 0, 0, fmt.Errorf("%s: not an object", strings.Join(keys[:depth], "."))
		}
		for {
			t, err := dec.Token()
			if err != nil {
				return 0, 0, fmt.Errorf("read JSON: %w", err)
			}
			if t == json.Delim('}') {
				return 0, 0, fmt.Errorf("no %s", strings.Join(keys[:depth+1], "."))
			}
			if t == key {
				break
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return 0, 0, fmt.Errorf("read JSON: %w", err)
			}
		}
	}
	start := int(dec.InputOffset())
	for start < len(b) && (b[start] == ':' || b[start] == ' ' || b[start] == '\t' || b[start] == '\n' || b[start] == '\r') {
		start++
	}
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return 0, 0, fmt.Errorf("read JSON: %w", err)
	}
	return start, start + len(v), nil
}

func readJSON(b []byte, keys []string) (string, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "", err
	}
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return "", errors.New("not an object")
		}
		v = m[k]
	}
	s, ok := v.(string)
	if !ok {
		return "", errors.New("not a string")
	}
	return s, nil
}

// editYAML finds the scalar at keys with the YAML parser, which says
// where it starts, and replaces exactly its bytes in its own style
// (plain, single- or double-quoted). Block scalars are refused.
func editYAML(b []byte, keys []string, version string) ([]byte, string, error) {
	n, start, err := findYAML(b, keys)
	if err != nil {
		return nil, "", err
	}
	v := withV(n.Value, version)
	var raw, with string
	switch n.Style {
	case 0:
		raw, with = n.Value, v
	case yaml.DoubleQuotedStyle:
		raw, with = `"`+n.Value+`"`, strconv.Quote(v)
	case yaml.SingleQuotedStyle:
		raw, with = `'`+n.Value+`'`, `'`+v+`'`
	default:
		return nil, "", fmt.Errorf("%s: only plain and quoted scalars can be edited in place", strings.Join(keys, "."))
	}
	if !bytes.HasPrefix(b[start:], []byte(raw)) {
		return nil, "", fmt.Errorf("%s: the value is not written as it reads (escapes or several lines)", strings.Join(keys, "."))
	}
	return splice(b, start, start+len(raw), with), v, nil
}

// findYAML returns the scalar at keys and its byte offset.
func findYAML(b []byte, keys []string) (*yaml.Node, int, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, 0, fmt.Errorf("read YAML: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, 0, errors.New("empty YAML")
	}
	n := doc.Content[0]
	for depth, k := range keys {
		if n.Kind != yaml.MappingNode {
			return nil, 0, fmt.Errorf("%s: not a mapping", strings.Join(keys[:depth], "."))
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil, 0, fmt.Errorf("no %s", strings.Join(keys[:depth+1], "."))
		}
		n = next
	}
	if n.Kind != yaml.ScalarNode {
		return nil, 0, fmt.Errorf("%s is not a scalar", strings.Join(keys, "."))
	}
	return n, offset(b, n.Line, n.Column), nil
}

// offset turns the parser's line and column (1-based, in characters)
// into a byte offset.
func offset(b []byte, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(b[off:], '\n')
		if i < 0 {
			return len(b)
		}
		off += i + 1
	}
	for c := 1; c < col && off < len(b); c++ {
		_, size := utf8.DecodeRune(b[off:])
		off += size
	}
	return off
}

// editGo finds `const NAME = "…"` (or a var) with go/parser and replaces
// the literal's bytes, in its own quoting.
func editGo(src []byte, name, version string) ([]byte, string, error) {
	old, start, lit, err := findGo(src, name)
	if err != nil {
		return nil, "", err
	}
	v := withV(old, version)
	with := strconv.Quote(v)
	if strings.HasPrefix(lit, "`") {
		with = "`" + v + "`"
	}
	return splice(src, start, start+len(lit), with), v, nil
}

// findGo returns the value of the string constant or variable name, its
// literal's offset and its literal as written.
func findGo(src []byte, name string) (string, int, string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.SkipObjectResolution)
	if err != nil {
		return "", 0, "", fmt.Errorf("parse Go: %w", err)
	}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST && gd.Tok != token.VAR {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, id := range vs.Names {
				if id.Name != name || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return "", 0, "", fmt.Errorf("%s is not a string literal", name)
				}
				v, err := strconv.Unquote(lit.Value)
				return v, fset.Position(lit.Pos()).Offset, lit.Value, err
			}
		}
	}
	return "", 0, "", fmt.Errorf("no const or var %s", name)
}
