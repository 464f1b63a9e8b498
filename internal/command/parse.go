package command

import (
	"slices"
	"strconv"
	"strings"
)

// Parse finds the commands in a comment, in order. Lines in quotes (`> `),
// fenced code blocks and indented code blocks are never commands. Lines
// that start with /ferry but are not valid commands come back as
// *UsageError in errs; valid ones still run.
func Parse(body string) (cmds []Command, errs []*UsageError) {
	var fence string // the open fence's marker, "" outside a block
	for i, raw := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		line := strings.TrimRight(raw, " \t\r")
		indent, rest := leading(line)
		if fence != "" {
			if indent < 4 && strings.HasPrefix(rest, fence) && strings.Trim(rest, fence[:1]) == "" {
				fence = ""
			}
			continue
		}
		if indent < 4 {
			if f := fenceOf(rest); f != "" {
				fence = f
				continue
			}
		}
		// Indented four or more: code (or a continuation) — never a
		// command, whatever precedes it. Quoted: somebody else's words.
		if indent >= 4 || strings.HasPrefix(rest, ">") {
			continue
		}
		cmd, err, ok := parseLine(rest, i+1)
		switch {
		case !ok:
		case err != nil:
			errs = append(errs, err)
		default:
			cmds = append(cmds, cmd)
		}
	}
	return cmds, errs
}

// leading counts indentation (a tab is 4) and returns the rest.
func leading(s string) (int, string) {
	n := 0
	for i, r := range s {
		switch r {
		case ' ':
			n++
		case '\t':
			n += 4
		default:
			return n, s[i:]
		}
	}
	return n, ""
}

// fenceOf returns the fence a line opens (``` or ~~~, three or more).
func fenceOf(s string) string {
	for _, c := range []string{"`", "~"} {
		n := len(s) - len(strings.TrimLeft(s, c))
		if n >= 3 {
			return strings.Repeat(c, n)
		}
	}
	return ""
}

func parseLine(line string, n int) (Command, *UsageError, bool) {
	fields := strings.Fields(line)
	if len(fields) == 0 || !strings.EqualFold(fields[0], Prefix) {
		return Command{}, nil, false // "/ferryboat" is not a command
	}
	fail := func(msg string) (Command, *UsageError, bool) {
		return Command{}, &UsageError{Line: n, Text: line, Msg: msg}, true
	}
	if len(fields) == 1 {
		return fail("a verb is missing: try /ferry help")
	}
	spec, ok := Lookup(strings.ToLower(fields[1]))
	if !ok {
		return fail("unknown command " + strconv.Quote(truncate(fields[1], 40)) + ": try /ferry help")
	}
	cmd := Command{Spec: spec, Line: n, Text: line, Flags: map[string]bool{}}
	var args []string
	for _, f := range fields[2:] {
		if strings.HasPrefix(f, "--") && spec.MaxArgs != -1 {
			if !slices.Contains(spec.Flags, f) {
				return fail(strconv.Quote(truncate(f, 40)) + " is not a flag of " + Prefix + " " + spec.Usage)
			}
			cmd.Flags[f] = true
			continue
		}
		args = append(args, f)
	}
	switch {
	case len(args) < spec.MinArgs:
		return fail("usage: " + Prefix + " " + spec.Usage)
	case spec.MaxArgs >= 0 && len(args) > spec.MaxArgs:
		return fail("too many arguments; usage: " + Prefix + " " + spec.Usage)
	}
	cmd.Args = args
	return cmd, nil, true
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
