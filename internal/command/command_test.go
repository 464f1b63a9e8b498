package command

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	type got struct {
		Verbs []string
		Args  [][]string
		Errs  []string
	}
	for _, tc := range []struct {
		name, body string
		want       got
	}{
		{"one", "/ferry approve", got{Verbs: []string{"approve"}, Args: [][]string{nil}}},
		{"case and spaces", "  /FERRY   Deploy   staging  ", got{Verbs: []string{"deploy"}, Args: [][]string{{"staging"}}}},
		{"several in order", "Thanks!\n/ferry pause staging db is migrating\n/ferry risk\n",
			got{Verbs: []string{"pause", "risk"}, Args: [][]string{{"staging", "db", "is", "migrating"}, nil}}},
		{"not at line start", "please run /ferry deploy prod", got{}},
		{"a longer word", "/ferryboat deploy", got{}},
		{"quoted", "> /ferry deploy production\nno", got{}},
		{"quoted, indented", "   > /ferry rollback production", got{}},
		{"fenced", "```\n/ferry deploy production\n```\n", got{}},
		{"fenced tilde, longer close", "~~~~sh\n/ferry pause\n~~~~~\n/ferry help", got{Verbs: []string{"help"}, Args: [][]string{nil}}},
		{"unclosed fence swallows the rest", "```\n/ferry pause\n", got{}},
		{"shorter fence does not close", "````\n```\n/ferry pause\n````\n", got{}},
		{"indented code", "text\n\n    /ferry deploy production\n", got{}},
		{"tab-indented", "\t/ferry deploy production", got{}},
		{"three spaces is still a line start", "   /ferry help", got{Verbs: []string{"help"}, Args: [][]string{nil}}},
		{"flag", "/ferry rollback production --force", got{Verbs: []string{"rollback"}, Args: [][]string{{"production"}}}},
		{"unknown verb", "/ferry dance", got{Errs: []string{`line 1: unknown command "dance": try /ferry help`}}},
		{"no verb", "/ferry", got{Errs: []string{"line 1: a verb is missing: try /ferry help"}}},
		{"missing argument", "/ferry deploy", got{Errs: []string{"line 1: usage: /ferry deploy <env> [--hotfix]"}}},
		{"too many", "/ferry resume a b", got{Errs: []string{"line 1: too many arguments; usage: /ferry resume [env|all]"}}},
		{"unknown flag", "/ferry deploy prod --now", got{Errs: []string{`line 1: "--now" is not a flag of /ferry deploy <env> [--hotfix]`}}},
		{"valid beside invalid", "/ferry dance\n/ferry help", got{Verbs: []string{"help"}, Args: [][]string{nil},
			Errs: []string{`line 1: unknown command "dance": try /ferry help`}}},
		{"crlf", "hi\r\n/ferry approve\r\n", got{Verbs: []string{"approve"}, Args: [][]string{nil}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmds, errs := Parse(tc.body)
			var g got
			for _, c := range cmds {
				g.Verbs = append(g.Verbs, c.Verb())
				g.Args = append(g.Args, c.Args)
			}
			for _, e := range errs {
				g.Errs = append(g.Errs, e.Error())
			}
			if d := cmp.Diff(tc.want, g); d != "" {
				t.Fatalf("-want +got\n%s", d)
			}
		})
	}
}

func TestFlagsAndPermissions(t *testing.T) {
	cmds, _ := Parse("/ferry rollback production --force")
	if !cmds[0].Flags["--force"] || cmds[0].Spec.Min != Maintain {
		t.Fatalf("%+v", cmds[0])
	}
	for _, p := range []Permission{None, Read, Triage, Write, Maintain, Admin} {
		if ParsePermission(p.String()) != p {
			t.Fatalf("round trip of %s", p)
		}
	}
	if ParsePermission("owner") != None {
		t.Fatal("unknown role must be none")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"/ferry approve", "> /ferry deploy prod", "```\n/ferry pause\n```", "\t/ferry x", "/ferry rollback p --force"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		cmds, _ := Parse(body)
		for _, c := range cmds {
			if strings.HasPrefix(strings.TrimSpace(c.Text), ">") {
				t.Fatalf("command from a quoted line: %q", c.Text)
			}
		}
		fenced, _ := Parse("```\n" + strings.ReplaceAll(body, "`", "") + "\n```")
		if len(fenced) != 0 {
			t.Fatalf("command from inside a fence: %q", fenced[0].Text)
		}
		quoted, _ := Parse("> " + strings.ReplaceAll(body, "\n", "\n> "))
		if len(quoted) != 0 {
			t.Fatalf("command from a quote: %q", quoted[0].Text)
		}
	})
}
