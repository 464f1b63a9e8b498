// Package command is the grammar of ferry's slash commands: `/ferry <verb>
// [args]` at the start of a comment line. One table of specs says each
// verb's usage, help, the permission it needs and whether it needs a pull
// request; the parser and `/ferry help` both read it. Pure.
package command

import (
	"fmt"
)

// Permission is a repository role, weakest first.
type Permission int

// Roles GitHub reports (role_name).
const (
	None Permission = iota
	Read
	Triage
	Write
	Maintain
	Admin
)

var permissionNames = []string{"none", "read", "triage", "write", "maintain", "admin"}

func (p Permission) String() string { return permissionNames[p] }

// ParsePermission reads a role name; unknown names are None.
func ParsePermission(s string) Permission {
	for i, n := range permissionNames {
		if n == s {
			return Permission(i)
		}
	}
	return None
}

// Spec describes one verb.
type Spec struct {
	Verb      string
	Usage     string // after "/ferry "
	Help      string
	Min       Permission // default minimum; policy may change it
	NeedsPR   bool       // only on a pull request
	Reserved  bool       // parsed, answered "not available yet"
	MinArgs   int
	MaxArgs   int // -1: the rest of the line (a reason)
	Flags     []string
	Available string // for reserved verbs: what will bring it
}

// Specs is the one table of commands, in the order help lists them.
var Specs = []Spec{
	{Verb: "help", Usage: "help", Help: "list the commands", Min: Read},
	{Verb: "risk", Usage: "risk", Help: "assess this pull request again", Min: Write, NeedsPR: true},
	{Verb: "explain", Usage: "explain [decision-id]", Help: "show the evidence behind ferry's latest decision here, or a given one", Min: Read, MaxArgs: 1},
	{Verb: "approve", Usage: "approve", Help: "approve the current head commit where policy needs a human", Min: Write, NeedsPR: true},
	{Verb: "pause", Usage: "pause [env|all] [reason]", Help: "stop ferry's automated actions in this repository (or one environment)", Min: Maintain, MaxArgs: -1},
	{Verb: "resume", Usage: "resume [env|all]", Help: "lift a pause; waiting actions go ahead", Min: Maintain, MaxArgs: 1},
	{Verb: "deploy", Usage: "deploy <env> [--hotfix]", Help: "deploy this pull request's head to an environment (--hotfix: all pods at once, where policy allows)", Min: Maintain, NeedsPR: true, MinArgs: 1, MaxArgs: 1, Flags: []string{"--hotfix"}},
	{Verb: "rollback", Usage: "rollback <env> [--force]", Help: "restore the environment's previous known-good version", Min: Maintain, NeedsPR: true, MinArgs: 1, MaxArgs: 1, Flags: []string{"--force"}},
	{Verb: "feedback", Usage: "feedback right|wrong <decision-id>", Help: "say whether one of ferry's decisions (a rollback, say) was right", Min: Write, MinArgs: 2, MaxArgs: 2},
	{Verb: "changelog", Usage: "changelog", Help: "preview this pull request's changelog entry", Min: Write, NeedsPR: true},
	{Verb: "test", Usage: "test", Help: "write tests for the Go functions this pull request changes: CI runs them on ferry's branch, the passing ones are proposed as a pull request", Min: Write, NeedsPR: true},
	{Verb: "optimize-dockerfile", Usage: "optimize-dockerfile [path]", Help: "propose proven rewrites of the Dockerfiles (or one) for faster builds and smaller images", Min: Write, MaxArgs: 1},
	{Verb: "quarantine", Usage: "quarantine <package.TestName>", Help: "propose quarantining a flaky test (a pull request and a tracking issue)", Min: Maintain, MinArgs: 1, MaxArgs: 1},
}

// Lookup finds a verb's spec.
func Lookup(verb string) (Spec, bool) {
	for _, s := range Specs {
		if s.Verb == verb {
			return s, true
		}
	}
	return Spec{}, false
}

// Command is one parsed command.
type Command struct {
	Spec  Spec
	Args  []string
	Flags map[string]bool
	Line  int    // 1-based line of the comment
	Text  string // the line as written
}

// Verb is the command's verb.
func (c Command) Verb() string { return c.Spec.Verb }

// Arg returns argument i or "".
func (c Command) Arg(i int) string {
	if i < len(c.Args) {
		return c.Args[i]
	}
	return ""
}

// UsageError is a /ferry line that is not a valid command.
type UsageError struct {
	Line int
	Text string
	Msg  string
}

func (e *UsageError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Prefix starts every command.
const Prefix = "/ferry"
