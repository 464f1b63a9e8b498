// Package dockerfile reads Dockerfiles with BuildKit's own parser and
// instruction model, reports stage-aware findings (cache order, build tools
// in the final image, package-manager hygiene, pinning, root, secrets…),
// and rewrites what is safe to rewrite — each rewrite proven before anyone
// sees it: it parses, BuildKit converts every target to LLB, the final
// image's runtime contract is unchanged and re-analysis finds strictly
// less. Pure: no I/O, no build engine.
package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// Bounds on what is read: a Dockerfile comes from repository content,
// which anyone opening a pull request controls. Real ones are far inside.
const (
	MaxSize         = 256 << 10
	MaxStages       = 64
	MaxInstructions = 2000
)

// File is a parsed Dockerfile.
type File struct {
	Src    []byte
	Lines  []string // Lines[i] is line i+1, without its newline
	Stages []*Stage
	// MetaArgs are the ARGs before the first FROM (they scope FROM lines).
	MetaArgs map[string]string
	Syntax   string // the # syntax= directive, if any
	Escape   rune
	runs     map[int][]run // each stage's RUNs, read once
	aptRisky map[int][]int // each stage's lines that use apt without updating first
	shell    bool          // a SHELL instruction names a shell that is not POSIX
}

// Stage is one FROM … section.
type Stage struct {
	Index int
	Name  string // the AS name; "" when unnamed
	Base  string // the FROM argument, meta ARGs expanded where they have defaults
	// BaseStage is the index of the stage this one builds on, or -1 for an image.
	BaseStage int
	Line      int
	Instrs    []Instr
}

// Label names a stage for people: its name, else its index.
func (s *Stage) Label() string {
	if s.Name != "" {
		return s.Name
	}
	return fmt.Sprintf("#%d", s.Index)
}

// Instr is one instruction of a stage.
type Instr struct {
	Kind      string // lower case: run, copy, add, env, arg, user, …
	Line, End int    // first and last source line (1-based)
	Cmd       instructions.Command
}

// Parse reads a Dockerfile. A file that BuildKit refuses is an error.
func Parse(src []byte) (*File, error) {
	if len(src) > MaxSize {
		return nil, fmt.Errorf("dockerfile: %d bytes, more than the %d read", len(src), MaxSize)
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("dockerfile: %w", err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, fmt.Errorf("dockerfile: %w", err)
	}
	if len(stages) == 0 {
		return nil, errors.New("dockerfile: no FROM")
	}
	if n := len(res.AST.Children); len(stages) > MaxStages || n > MaxInstructions {
		return nil, fmt.Errorf("dockerfile: %d stages, %d instructions: more than ferry reads (%d, %d)", len(stages), n, MaxStages, MaxInstructions)
	}
	f := &File{Src: src, Lines: strings.Split(string(src), "\n"), MetaArgs: map[string]string{}, Escape: res.EscapeToken}
	f.Syntax, _, _, _ = parser.DetectSyntax(src)
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				f.MetaArgs[kv.Key] = *kv.Value
			} else {
				f.MetaArgs[kv.Key] = ""
			}
		}
	}
	lex := shell.NewLex(res.EscapeToken)
	names := map[string]int{}
	for i, st := range stages {
		s := &Stage{Index: i, Name: strings.ToLower(st.Name), BaseStage: -1, Line: firstLine(st.Location)}
		s.Base = expandFrom(lex, st.BaseName, f.MetaArgs)
		if j, ok := names[strings.ToLower(s.Base)]; ok {
			s.BaseStage = j
		}
		for _, c := range st.Commands {
			loc := instrLocation(c)
			s.Instrs = append(s.Instrs, Instr{Kind: strings.ToLower(c.Name()), Line: firstLine(loc), End: lastLine(loc), Cmd: c})
			if sh, ok := c.(*instructions.ShellCommand); ok && !posix(sh.Shell) {
				f.shell = true
			}
		}
		if s.Name != "" {
			names[s.Name] = i
		}
		f.Stages = append(f.Stages, s)
	}
	return f, nil
}

func (f *File) instructions() int {
	n := 0
	for _, s := range f.Stages {
		n += 1 + len(s.Instrs)
	}
	return n
}

// posix: a SHELL that is still a POSIX shell (bash -o pipefail -c, say).
func posix(shell []string) bool {
	if len(shell) == 0 {
		return false
	}
	switch shell[0][strings.LastIndex(shell[0], "/")+1:] {
	case "sh", "bash", "ash", "dash", "zsh", "busybox":
		return true
	}
	return false
}

// Final is the stage a plain build produces.
func (f *File) Final() *Stage { return f.Stages[len(f.Stages)-1] }

// Text is the source of lines from..to (1-based, inclusive).
func (f *File) Text(from, to int) string {
	if from < 1 || to > len(f.Lines) || from > to {
		return ""
	}
	return strings.Join(f.Lines[from-1:to], "\n")
}

// StageOf resolves a --from or FROM reference to a stage index, or -1.
func (f *File) StageOf(ref string, before int) int {
	ref = strings.ToLower(ref)
	for _, s := range f.Stages[:before] {
		if s.Name == ref || fmt.Sprint(s.Index) == ref {
			return s.Index
		}
	}
	return -1
}

// expandFrom expands meta ARGs in a FROM argument; an ARG without a default
// stays as written (the build supplies it).
func expandFrom(lex *shell.Lex, base string, args map[string]string) string {
	env := []string{}
	for k, v := range args {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	out, _, err := lex.ProcessWord(base, shell.EnvsFromSlice(env))
	if err != nil || out == "" {
		return base
	}
	return out
}

type locator interface{ Location() []parser.Range }

func instrLocation(c instructions.Command) []parser.Range {
	if l, ok := c.(locator); ok {
		return l.Location()
	}
	return nil
}

func firstLine(r []parser.Range) int {
	if len(r) == 0 {
		return 0
	}
	return r[0].Start.Line
}

func lastLine(r []parser.Range) int {
	if len(r) == 0 {
		return 0
	}
	return r[len(r)-1].End.Line
}

// IsDockerfile reports whether a repository path names a Dockerfile by
// the usual conventions: Dockerfile, Containerfile, Dockerfile.<x>,
// <x>.Dockerfile, <x>.dockerfile.
func IsDockerfile(p string) bool {
	base := p[strings.LastIndex(p, "/")+1:]
	lower := strings.ToLower(base)
	if strings.HasSuffix(lower, ".dockerignore") {
		return false
	}
	return lower == "dockerfile" || lower == "containerfile" || strings.HasPrefix(lower, "dockerfile.") ||
		strings.HasPrefix(lower, "containerfile.") || strings.HasSuffix(lower, ".dockerfile") || strings.HasSuffix(lower, ".containerfile")
}

// Touching keeps the findings whose instruction has one of lines (the
// lines a change added or modified).
func Touching(f *File, fs []Finding, lines map[int]bool) []Finding {
	span := map[int]int{}
	for _, s := range f.Stages {
		span[s.Line] = s.Line
		for _, in := range s.Instrs {
			span[in.Line] = in.End
		}
	}
	var out []Finding
	for _, fd := range fs {
		end, ok := span[fd.Line]
		if !ok {
			end = fd.Line
		}
		for l := fd.Line; l <= end; l++ {
			if lines[l] {
				out = append(out, fd)
				break
			}
		}
	}
	return out
}
