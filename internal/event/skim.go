package event

import (
	"bytes"
	"encoding/json"
)

// routing holds the raw JSON values of the routing fields, as they appear
// in the payload (nil when absent).
type routing struct {
	action, number                   []byte // top level
	installationID                   []byte // installation.id
	repositoryID, repositoryFullName []byte // repository.id, repository.full_name
	pullRequestNumber, issueNumber   []byte // pull_request.number, issue.number
}

// skimRouting walks a JSON object that is known to be valid once, from
// start to end, and picks the raw values of the routing fields: the
// members of the top level, and of its installation, repository,
// pull_request and issue objects, are looked at; every other value is
// skipped over by its brackets and quotes alone. A field given twice
// counts once: the first time (as gjson reads it).
func skimRouting(valid []byte) routing {
	var r routing
	s := skimmer{b: valid}
	s.ws()
	s.object(func(key []byte) {
		var fields func(key []byte) *[]byte
		switch string(key) {
		case "action":
			s.take(&r.action)
			return
		case "number":
			s.take(&r.number)
			return
		case "installation":
			fields = func(k []byte) *[]byte { return pick(k, "id", &r.installationID) }
		case "repository":
			fields = func(k []byte) *[]byte {
				if p := pick(k, "id", &r.repositoryID); p != nil {
					return p
				}
				return pick(k, "full_name", &r.repositoryFullName)
			}
		case "pull_request":
			fields = func(k []byte) *[]byte { return pick(k, "number", &r.pullRequestNumber) }
		case "issue":
			fields = func(k []byte) *[]byte { return pick(k, "number", &r.issueNumber) }
		default:
			s.skip()
			return
		}
		if s.peek() != '{' {
			s.skip() // not an object: none of its fields exist
			return
		}
		s.object(func(k []byte) {
			if p := fields(k); p != nil {
				s.take(p)
				return
			}
			s.skip()
		})
	})
	return r
}

// pick is dst when key is name and dst is not yet set.
func pick(key []byte, name string, dst *[]byte) *[]byte {
	if string(key) == name && *dst == nil {
		return dst
	}
	return nil
}

// skimmer reads JSON already validated (gjson.ValidBytes): it never checks
// what it skips, and stops at the end of the input whatever it finds.
type skimmer struct {
	b []byte
	i int
}

func (s *skimmer) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *skimmer) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// object calls member for each member's key (unescaped) with the skimmer
// at its value, which member must consume (take or skip). The skimmer is
// at the '{'.
func (s *skimmer) object(member func(key []byte)) {
	s.i++ // '{'
	for s.i < len(s.b) {
		s.ws()
		switch s.peek() {
		case '}':
			s.i++
			return
		case ',':
			s.i++
			continue
		}
		key := unquote(s.str())
		s.ws()
		s.i++ // ':'
		s.ws()
		member(key)
	}
}

// take stores the raw value at the skimmer in *dst (unless set before).
func (s *skimmer) take(dst *[]byte) {
	start := s.i
	s.skip()
	if *dst == nil {
		*dst = s.b[start:s.i]
	}
}

// skip moves past one value.
func (s *skimmer) skip() {
	switch s.peek() {
	case '"':
		s.str()
	case '{', '[':
		s.nested()
	default: // a number, true, false or null
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			s.i++
		}
	}
}

// nested moves past an object or array: only brackets outside strings
// count.
func (s *skimmer) nested() {
	depth := 0
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			s.str()
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				s.i++
				return
			}
		}
		s.i++
	}
}

// str moves past a string and returns it, quotes included. The closing
// quote is the first one not escaped: preceded by an even number of
// backslashes.
func (s *skimmer) str() []byte {
	start := s.i
	j := s.i + 1
	for {
		k := bytes.IndexByte(s.b[j:], '"')
		if k < 0 {
			s.i = len(s.b)
			return s.b[start:]
		}
		j += k
		n := 0
		for p := j - 1; p > start && s.b[p] == '\\'; p-- {
			n++
		}
		j++
		if n%2 == 0 {
			s.i = j
			return s.b[start:j]
		}
	}
}

// unquote is a key's text: its bytes between the quotes, unescaped when
// it has escapes (rare: GitHub never escapes a key).
func unquote(tok []byte) []byte {
	if len(tok) < 2 {
		return nil
	}
	if bytes.IndexByte(tok, '\\') < 0 {
		return tok[1 : len(tok)-1]
	}
	var k string
	if json.Unmarshal(tok, &k) != nil {
		return nil
	}
	return []byte(k)
}
