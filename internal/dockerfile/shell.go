package dockerfile

import (
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"
)

// call is one simple command of a RUN line: its words as literals ("" for
// a word that is not one) and where its words end in the RUN's source.
type call struct {
	Args []string
	ends []int // ends[i]: offset just after Args[i] in run.Shell
}

// run is a shell-form RUN read with a real shell parser.
type run struct {
	Instr
	Shell  string // the source after RUN and its flags, continuations kept
	offset int    // where Shell starts in the instruction's source
	Calls  []call
	Flags  []string
	// Editable: the source can be rewritten as shell text — no heredoc,
	// no exec form, no comment or blank line inside continuations (the
	// Dockerfile drops those, a shell would not), the default escape.
	Editable bool
}

// readRun parses a RUN instruction's shell. ok is false for exec form or
// a command the shell parser refuses (then no rule reads inside it).
func readRun(f *File, in Instr) (run, bool) {
	rc, isRun := in.Cmd.(*instructions.RunCommand)
	if !isRun || !rc.PrependShell || len(rc.CmdLine) == 0 {
		return run{}, false
	}
	r := run{Instr: in, Flags: rc.FlagsUsed}
	src := f.Text(in.Line, in.End)
	r.offset = shellStart(src)
	r.Shell = src[r.offset:]
	r.Editable = len(rc.Files) == 0 && f.Escape == '\\' && r.offset > 0 && !hasDroppedLines(r.Shell)
	text := strings.Join(rc.CmdLine, " ")
	if r.Editable {
		text = r.Shell
	}
	prog, err := syntax.NewParser(syntax.KeepComments(true)).Parse(strings.NewReader(text), "")
	if err != nil {
		return run{}, false
	}
	if f.shell {
		r.Editable = false // SHELL names another shell: ferry edits POSIX sh only
	}
	syntax.Walk(prog, func(n syntax.Node) bool {
		if _, ok := n.(*syntax.Comment); ok {
			r.Editable = false // text appended after a comment would be commented out
		}
		if c, ok := n.(*syntax.CallExpr); ok && len(c.Args) > 0 {
			var cl call
			for _, w := range c.Args {
				cl.Args = append(cl.Args, w.Lit())
				cl.ends = append(cl.ends, int(w.End().Offset()))
			}
			r.Calls = append(r.Calls, cl)
		}
		return true
	})
	return r, true
}

// shellStart skips "RUN" and its --flags in an instruction's source.
func shellStart(src string) int {
	i := len(src) - len(strings.TrimLeft(src, " \t"))
	if len(src) < i+3 || !strings.EqualFold(src[i:i+3], "run") {
		return 0
	}
	i += 3
	for {
		j := i + len(src[i:]) - len(strings.TrimLeft(src[i:], " \t"))
		if strings.HasPrefix(src[j:], "\\\n") {
			i = j + 2
			continue
		}
		if !strings.HasPrefix(src[j:], "--") {
			return j
		}
		k := strings.IndexAny(src[j:], " \t\n")
		if k < 0 {
			return 0
		}
		i = j + k
	}
}

func hasDroppedLines(s string) bool {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if i > 0 && (t == "" || strings.HasPrefix(t, "#")) {
			return true
		}
	}
	return false
}

// tool is the program a call runs, without its directory.
func (c call) tool() string {
	args := c.Args
	for len(args) > 1 && (args[0] == "sudo" || args[0] == "env" || args[0] == "exec" || args[0] == "command") {
		args = args[1:]
	}
	return path.Base(args[0])
}

// sub is a call's first argument that is not a flag after the tool (and,
// for python -m pip, after the module).
func (c call) sub() (string, int) {
	args := c.Args
	start := 1
	if t := c.tool(); (t == "python" || t == "python3") && len(args) > 2 && args[1] == "-m" {
		start = 3
	}
	for i := start; i < len(args); i++ {
		if !strings.HasPrefix(args[i], "-") {
			return args[i], i
		}
	}
	return "", -1
}

// is reports whether the call runs one of tools with the subcommand sub.
func (c call) is(sub string, tools ...string) (int, bool) {
	t := c.tool()
	if (t == "python" || t == "python3") && len(c.Args) > 2 && c.Args[1] == "-m" {
		t = c.Args[2]
	}
	for _, want := range tools {
		if t == want {
			s, i := c.sub()
			return i, s == sub
		}
	}
	return -1, false
}

func (c call) has(flags ...string) bool {
	for _, a := range c.Args {
		for _, f := range flags {
			if a == f || strings.HasPrefix(a, f+"=") {
				return true
			}
		}
	}
	return false
}

// mounts reports whether a RUN has a --mount of the given type.
func (r run) mounts(kind string) bool {
	for _, fl := range r.Flags {
		if fl == "mount" {
			rc := r.Cmd.(*instructions.RunCommand)
			for _, m := range instructions.GetMounts(rc) {
				if string(m.Type) == kind {
					return true
				}
			}
		}
	}
	return false
}

// verb names what a call does for people: "npm ci", "go mod download".
func (c call) verb() string {
	sub, i := c.sub()
	if c.tool() == "go" && sub == "mod" && i+1 < len(c.Args) {
		return "go mod " + c.Args[i+1]
	}
	return strings.TrimSpace(c.tool() + " " + sub)
}
