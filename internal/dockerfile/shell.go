package dockerfile

import (
	"path"
	"regexp"
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
	openTail bool // the shell text ends with ;, & or \: nothing may be appended
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
	r.Editable = len(rc.Files) == 0 && f.Escape == '\\' && r.offset > 0 && !hasDroppedLines(r.Shell) &&
		!strings.Contains(r.Shell, "\r") // a CR would end up inside a word ferry writes next to
	tail := strings.TrimRight(r.Shell, " \t")
	// Text appended after a trailing ;, & or \ would not be the && ferry means.
	r.openTail = strings.HasSuffix(tail, ";") || strings.HasSuffix(tail, "&") && !strings.HasSuffix(tail, "&&") || strings.HasSuffix(tail, "\\")
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

// start is the index of the program a call runs, past wrappers (sudo,
// env, exec, command, nice) with their options and VAR=value words.
func (c call) start() int {
	i := 0
	for i < len(c.Args)-1 {
		switch a := c.Args[i]; {
		case a == "sudo" || a == "env" || a == "exec" || a == "command" || a == "nice" || a == "time":
			i++
		case i > 0 && (strings.HasPrefix(a, "-") || assignment.MatchString(a)):
			i++ // a wrapper's option, or env's VAR=value
		default:
			return i
		}
	}
	return i
}

var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// tool is the program a call runs, without its directory.
func (c call) tool() string { return path.Base(c.Args[c.start()]) }

// valued are options that take the next word as their value (apt's -o,
// -t, -c; pip's -r, -c, -e … are read where they matter).
var valued = map[string]bool{"-o": true, "-t": true, "-c": true, "--option": true, "--target-release": true, "--config-file": true}

// sub is a call's first argument that is not an option (or an option's
// value) after the tool (and, for python -m pip, after the module).
func (c call) sub() (string, int) {
	args := c.Args
	start := c.start() + 1
	if t := c.tool(); (t == "python" || t == "python3") && len(args) > start+1 && args[start] == "-m" {
		start += 2
	}
	for i := start; i < len(args); i++ {
		switch {
		case valued[args[i]]:
			i++
		case !strings.HasPrefix(args[i], "-"):
			return args[i], i
		}
	}
	return "", -1
}

// is reports whether the call runs one of tools with the subcommand sub.
func (c call) is(sub string, tools ...string) (int, bool) {
	t := c.tool()
	if st := c.start(); (t == "python" || t == "python3") && len(c.Args) > st+2 && c.Args[st+1] == "-m" {
		t = c.Args[st+2]
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
