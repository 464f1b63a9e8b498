// Package render turns view models into the Markdown and text ferry shows:
// the sticky risk comment, the check-run summary, the CLI's output. The
// templates (templates/) are embedded, parsed once, and strict: a missing
// field is an error, never "<no value>".
package render

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/command"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/md"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
	"github.com/ferry-ci/ferry/internal/route"
	"github.com/ferry-ci/ferry/templates"
)

// Renderer renders ferry's templates.
type Renderer struct{ t *template.Template }

var funcs = template.FuncMap{
	"join":  strings.Join,
	"short": shortSHA,
	// Every value a user or a repository controls goes through text or
	// code (package md): it can close no span, render no link, mention no
	// one. Logins are named, never mentioned: an edit must not notify.
	"text":     md.Text,
	"code":     md.Code,
	"cellcode": md.CellCode,
	"fence":    md.Fence,
	// spans renders ferry's plain-text messages whose `quoted` parts are
	// code: each part escaped as what it is.
	"spans": func(s string) string {
		parts := strings.Split(s, "`")
		if len(parts)%2 == 0 {
			return md.Text(s) // unbalanced: all text
		}
		for i, p := range parts {
			if i%2 == 1 {
				parts[i] = md.Code(p)
			} else {
				parts[i] = md.Text(p)
			}
		}
		return strings.Join(parts, "")
	},
	"mark": func(ok bool) string {
		if ok {
			return "✓"
		}
		return "✗"
	},
	"mention": func(login string) string { return md.Text("@" + login) },
	"mentions": func(logins []string) string {
		out := make([]string, len(logins))
		for i, l := range logins {
			out[i] = md.Text("@" + l)
		}
		return strings.Join(out, ", ")
	},
	"public": func(rs []audit.Reason) []audit.Reason {
		var out []audit.Reason
		for _, r := range rs {
			if !r.Private {
				out = append(out, r)
			}
		}
		return out
	},
	"private": func(rs []audit.Reason) bool {
		return slices.ContainsFunc(rs, func(r audit.Reason) bool { return r.Private })
	},
	"location": func(path string, line int) string {
		if line > 0 {
			return path + ":" + strconv.Itoa(line)
		}
		return path
	},
	"upper": func(l risk.Level) string { return strings.ToUpper(string(l)) },
	"sub":   func(a, b int) int { return a - b },
	// percent is a percentile or share already scaled to 0–100.
	"percent": func(v float64) string { return fmt.Sprintf("%.0f%%", v) },
	"points": func(w float64) string {
		return strconv.FormatFloat(w, 'f', -1, 64)
	},
	"duration": func(d time.Duration) string {
		if d%time.Hour == 0 {
			return fmt.Sprintf("%d h", int(d.Hours()))
		}
		return fmt.Sprintf("%d min", int(d.Minutes()))
	},
	"badge": func(l risk.Level) string {
		return map[risk.Level]string{risk.Low: "🟢", risk.Medium: "🟡", risk.High: "🔴"}[l]
	},
}

// New parses the templates.
func New() (*Renderer, error) {
	t, err := template.New("ferry").Option("missingkey=error").Funcs(funcs).ParseFS(templates.FS, "*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	return &Renderer{t: t}, nil
}

// Previous is the assessment a new one is compared with.
type Previous struct {
	Head  string
	Level risk.Level
	Score int
	Rules []string
}

// RiskView is what the risk comment, check summary and CLI show.
type RiskView struct {
	risk.Assessment
	Route        route.Plan
	Head         string // short SHA
	PolicySource string // e.g. ".github/ferry.yml at main" or "defaults"
	FilesSeen    int
	Top, Rest    []risk.Reason // Top: up to 5 largest; Rest: the others
	All          []risk.Reason
	Previous     *Previous
	Added        []string // rules that fired now and not before
	Removed      []string // rules that fired before and not now
	Control      Control
	Dockerfiles  []DockerfileNote // findings on the Dockerfile lines a pull request touched
}

// Control is what people did about the pull request: a pause in force,
// approvals of the current head, approvals made void by later pushes.
type Control struct {
	Paused   *Pause
	Approved []string // logins
	Void     []VoidApproval
}

// Pause is a pause in force.
type Pause struct{ By, Reason string }

// VoidApproval is an approval of an earlier head.
type VoidApproval struct{ By, Head string }

// NewRiskView prepares an assessment for display.
func NewRiskView(a risk.Assessment, plan route.Plan, head, policySource string, filesSeen int, prev *Previous) RiskView {
	v := RiskView{Assessment: a, Route: plan, Head: shortSHA(head), PolicySource: policySource, FilesSeen: filesSeen, All: a.Reasons}
	v.Top = a.Reasons[:min(5, len(a.Reasons))]
	v.Rest = a.Reasons[len(v.Top):]
	if prev != nil {
		p := *prev
		p.Head = shortSHA(p.Head)
		v.Previous = &p
		now := map[string]bool{}
		for _, r := range a.Reasons {
			now[r.Rule] = true
		}
		before := map[string]bool{}
		for _, r := range prev.Rules {
			before[r] = true
			if !now[r] {
				v.Removed = append(v.Removed, r)
			}
		}
		for _, r := range a.Reasons {
			if !before[r.Rule] {
				v.Added = append(v.Added, r.Rule)
			}
		}
	}
	return v
}

func shortSHA(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

// RiskMarkdown is the sticky comment and the check-run summary.
func (r *Renderer) RiskMarkdown(v RiskView) (string, error) { return r.exec("risk.md", v) }

// RiskText is `ferry analyze`'s text output.
func (r *Renderer) RiskText(v RiskView) (string, error) { return r.exec("risk.txt", v) }

// InvalidPolicyView is what the comment about a broken policy shows.
type InvalidPolicyView struct {
	Path     string
	Ref      string
	Problems []policy.Problem
}

// InvalidPolicy is the comment for a policy file that cannot be used.
func (r *Renderer) InvalidPolicy(v InvalidPolicyView) (string, error) {
	return r.exec("policy-invalid.md", v)
}

func (r *Renderer) exec(name string, data any) (string, error) {
	var b bytes.Buffer
	if err := r.t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return b.String() + "\n", nil
}

// DeployView is a deploy's progress comment.
type DeployView struct {
	ID, Kind, Short, Environment, Status, Badge string
	Strategy, Reasons, Actor, Message, Elapsed  string
	Steps                                       []DeployStepView
}

// DeployStepView is one row of the progress table.
type DeployStepView struct {
	N                 int
	Note, State, Took string
}

// Deploy renders a deploy's progress comment.
func (r *Renderer) Deploy(v DeployView) (string, error) { return r.exec("deploy.md", v) }

// ReplyView is ferry's one reply to a person's comment or button: it
// mentions them, then says, per command, what happened.
type ReplyView struct {
	Actor string
	Parts []ReplyPart
}

// ReplyPart is the answer to one command: exactly one field is set.
type ReplyPart struct {
	Refused     string          // why ferry will not (plain text)
	Failed      string          // the delivery ferry could not finish
	Deploy      *deploy.Deploy  // a deploy or rollback queued
	RollingBack *deploy.Deploy  // a running deploy asked to roll back
	Help        []command.Spec  // the command table
	Decision    *audit.Decision // the evidence behind a decision (private reasons left out)
	Note        string          // anything else worth saying (plain text)
	Changelog   []ReleaseView   // a pull request's changelog entry, per component
}

// Empty reports whether the part says nothing.
func (p ReplyPart) Empty() bool {
	return p.Refused == "" && p.Failed == "" && p.Deploy == nil && p.RollingBack == nil && p.Help == nil && p.Decision == nil && p.Note == "" && p.Changelog == nil
}

// Reply renders a reply. Every value a person or a repository controls is
// escaped; nothing they wrote is echoed back whole.
func (r *Renderer) Reply(v ReplyView) (string, error) { return r.exec("reply.md", v) }
