package testsel

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Outcome is how one test ended in one run.
type Outcome string

// Outcomes.
const (
	Passed  Outcome = "pass"
	Failed  Outcome = "fail"
	Skipped Outcome = "skip"
)

// Result is one test's outcome in a report.
type Result struct {
	Suite   string  `json:"suite"` // the Go package, or the JUnit suite (classname)
	Test    string  `json:"test"`
	Outcome Outcome `json:"outcome"`
}

// ID names a test across runs: suite and name.
func (r Result) ID() string { return r.Suite + "." + r.Test }

// Report limits: what CI uploads is outside ferry's control.
const (
	maxReportBytes = 64 << 20
	maxLine        = 1 << 20
	maxResults     = 200_000
)

// ErrTooLarge is a report past the limits.
var ErrTooLarge = errors.New("test report too large")

// ParseGoTestJSON reads `go test -json` output (test2json events): every
// test's final outcome. Lines that are not events (build output mixed in)
// are skipped; a package's own pass or fail line is not a test.
func ParseGoTestJSON(r io.Reader) ([]Result, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxReportBytes+1))
	sc.Buffer(make([]byte, 4<<10), maxLine)
	final := map[string]Result{}
	read := 0
	for sc.Scan() {
		read += len(sc.Bytes()) + 1
		if read > maxReportBytes {
			return nil, ErrTooLarge
		}
		var ev struct{ Action, Package, Test string }
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Test == "" {
			continue
		}
		var o Outcome
		switch ev.Action {
		case "pass":
			o = Passed
		case "fail":
			o = Failed
		case "skip":
			o = Skipped
		default:
			continue
		}
		res := Result{Suite: ev.Package, Test: ev.Test, Outcome: o}
		final[res.ID()] = res
		if len(final) > maxResults {
			return nil, ErrTooLarge
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("go test -json line: %w", ErrTooLarge)
		}
		return nil, fmt.Errorf("read go test -json: %w", err)
	}
	return sorted(final), nil
}

// junit is the part of a JUnit XML report that says who passed.
type junit struct {
	Suites []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name   string       `xml:"name,attr"`
	Cases  []junitCase  `xml:"testcase"`
	Suites []junitSuite `xml:"testsuite"` // nested suites
}

type junitCase struct {
	Name      string    `xml:"name,attr"`
	ClassName string    `xml:"classname,attr"`
	Failure   *struct{} `xml:"failure"`
	Error     *struct{} `xml:"error"`
	Skipped   *struct{} `xml:"skipped"`
}

// ParseJUnit reads a JUnit XML report (a <testsuites> document or a single
// <testsuite>): every test case's outcome; an error counts as a failure.
func ParseJUnit(r io.Reader) ([]Result, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxReportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read JUnit: %w", err)
	}
	if len(data) > maxReportBytes {
		return nil, ErrTooLarge
	}
	var doc junit
	dec := xml.NewDecoder(strings.NewReader(string(data)))
	dec.Strict = true
	start, err := firstElement(dec)
	if err != nil {
		return nil, fmt.Errorf("JUnit: %w", err)
	}
	switch start.Name.Local {
	case "testsuites":
		err = dec.DecodeElement(&doc, &start)
	case "testsuite":
		var s junitSuite
		err = dec.DecodeElement(&s, &start)
		doc.Suites = []junitSuite{s}
	default:
		return nil, fmt.Errorf("JUnit: <%s> is not a test report", start.Name.Local)
	}
	if err != nil {
		return nil, fmt.Errorf("JUnit: %w", err)
	}
	final := map[string]Result{}
	if err := collect(doc.Suites, final, 0); err != nil {
		return nil, err
	}
	return sorted(final), nil
}

func firstElement(dec *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := dec.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		if s, ok := tok.(xml.StartElement); ok {
			return s, nil
		}
	}
}

// collect gathers the cases of suites (nested at most 32 deep).
func collect(suites []junitSuite, into map[string]Result, depth int) error {
	if depth > 32 {
		return fmt.Errorf("JUnit: suites nested more than 32 deep")
	}
	for _, s := range suites {
		for _, c := range s.Cases {
			res := Result{Suite: c.ClassName, Test: c.Name, Outcome: Passed}
			if res.Suite == "" {
				res.Suite = s.Name
			}
			switch {
			case c.Failure != nil || c.Error != nil:
				res.Outcome = Failed
			case c.Skipped != nil:
				res.Outcome = Skipped
			}
			into[res.ID()] = res
			if len(into) > maxResults {
				return ErrTooLarge
			}
		}
		if err := collect(s.Suites, into, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func sorted(m map[string]Result) []Result {
	out := make([]Result, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out
}
