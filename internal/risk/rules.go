package risk

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/ferry-ci/ferry/internal/change"
)

type rule func(p *prepared) []Reason

// one adapts a rule that gives at most one reason.
func one(f func(p *prepared) (Reason, bool)) rule {
	return func(p *prepared) []Reason {
		if r, ok := f(p); ok {
			return []Reason{r}
		}
		return nil
	}
}

// rules, in no particular order: Assess sorts reasons by weight.
var rules = []rule{
	classRule(change.Migration, "migration", "database migration"),
	classRule(change.Infra, "infra", "infrastructure file"),
	classRule(change.Dockerfile, "dockerfile", "Dockerfile"),
	classRule(change.CI, "ci", "CI configuration file"),
	classRule(change.Deps, "deps", "dependency manifest or lockfile"),
	classRule(change.APIContract, "api-contract", "public API contract"),
	classRule(change.Config, "config", "configuration file"),
	classRule(change.FeatureFlag, "feature-flag", "feature flag file"),
	one(authRule), one(destructiveSQLRule), one(secretRule),
	one(sizeRule), one(spreadRule), one(entropyRule), one(historyRule), one(offHoursRule), policyPathRules,
}

const maxEvidence = 20

func capped(ev []Evidence) []Evidence {
	if len(ev) > maxEvidence {
		return ev[:maxEvidence]
	}
	return ev
}

func classRule(c change.Class, name, noun string) rule {
	return one(func(p *prepared) (Reason, bool) {
		var ev []Evidence
		for _, f := range p.all {
			if f.is(c) {
				ev = append(ev, Evidence{Path: f.Path})
			}
		}
		if len(ev) == 0 {
			return Reason{}, false
		}
		return Reason{Rule: name, Weight: p.Policy.Weight(name),
			Summary: "touches " + plural(len(ev), noun, noun+"s"), Evidence: capped(ev)}, true
	})
}

var authWords = regexp.MustCompile(`(?i)\b(password|passwd|secret|token|jwt|oauth|session|csrf|permission|authori[sz]e|authenticat\w*|crypto|bcrypt|scrypt|hmac|private[_ ]?key|acl|rbac|is_?admin|role)s?\b`)

// Substrings every match of the regexes below contains (lower-case): a
// line without any is skipped without running them.
var (
	authHints = []string{"pass", "secret", "token", "jwt", "oauth", "session", "csrf", "permission", "authori", "authenticat", "crypt", "hmac", "private", "acl", "rbac", "admin", "role"}
	sqlHints  = []string{"drop", "truncate", "alter", "rename", "delete", "modify", "not null", "remove", "change"}
)

// authRule: auth and security paths weigh fully; auth identifiers added
// elsewhere (outside tests) weigh half.
func authRule(p *prepared) (Reason, bool) {
	var paths, lines []Evidence
	for _, f := range p.all {
		if f.is(change.Auth) {
			paths = append(paths, Evidence{Path: f.Path})
			continue
		}
		if !code(f.classes) {
			continue
		}
		for i, l := range f.added {
			if !mentions(f.lower[i], authHints) {
				continue
			}
			if m := authWords.FindString(l.Text); m != "" {
				lines = append(lines, Evidence{Path: f.Path, Line: l.Number, Note: "adds “" + strings.ToLower(m) + "”"})
			}
		}
	}
	w := p.Policy.Weight("auth")
	switch {
	case len(paths) > 0:
		return Reason{Rule: "auth", Weight: w, Summary: "touches " + plural(len(paths), "auth or security file", "auth or security files"),
			Evidence: capped(append(paths, lines...))}, true
	case len(lines) > 0:
		return Reason{Rule: "auth", Weight: w / 2, Summary: "adds auth-related code on " + plural(len(lines), "line", "lines"),
			Evidence: capped(lines)}, true
	}
	return Reason{}, false
}

var destructiveSQL = regexp.MustCompile(`(?i)\b(drop\s+(table|column|index|database|schema|constraint|view|type)|truncate(\s+table)?\s+\w+|alter\s+table\s+\S+\s+(drop|rename)\b|rename\s+column|alter\s+column\s+\S+\s+(set\s+data\s+)?type\b|modify\s+(column\s+)?\S+\s+\w|alter\s+column\s+\S+\s+set\s+not\s+null|add\s+(column\s+)?\S+\s+[^;]*\bnot\s+null\b)`)

// destructiveORM are schema changes that lose data or break running code,
// as migration frameworks write them (Django, Rails, Sequelize, Alembic,
// Knex, Prisma …), looked for in migration files only.
var destructiveORM = regexp.MustCompile(`\b(RemoveField|DeleteModel|RenameField|RenameModel|AlterField|remove_column|drop_table|rename_column|change_column|removeColumn|dropTable|renameColumn|changeColumn|renameTable|drop_column|alter_column|dropColumn)\b`)

// withDefault: NOT NULL with a DEFAULT is safe on an existing table.
var withDefault = regexp.MustCompile(`(?i)\bdefault\b`)
var deleteWithoutWhere = regexp.MustCompile(`(?i)\bdelete\s+from\s+\S+\s*;?\s*$`)

// destructiveSQLRule: statements that lose data or break old code, found
// in added lines of any file (migrations live in many shapes).
func destructiveSQLRule(p *prepared) (Reason, bool) {
	var ev []Evidence
	for _, f := range p.all {
		if f.is(change.Tests) || f.is(change.Docs) {
			continue
		}
		for i, l := range f.added {
			if !mentions(f.lower[i], sqlHints) {
				continue
			}
			m := destructiveSQL.FindString(l.Text)
			if strings.Contains(strings.ToLower(m), "not null") && withDefault.MatchString(l.Text) {
				m = ""
			}
			if m == "" && deleteWithoutWhere.MatchString(l.Text) {
				m = "DELETE without WHERE"
			}
			if m == "" && f.is(change.Migration) {
				m = destructiveORM.FindString(l.Text)
			}
			if m != "" {
				ev = append(ev, Evidence{Path: f.Path, Line: l.Number, Note: strings.Join(strings.Fields(m), " ")})
			}
		}
	}
	if len(ev) == 0 {
		return Reason{}, false
	}
	return Reason{Rule: "destructive-sql", Weight: p.Policy.Weight("destructive-sql"),
		Summary: "destructive SQL on " + plural(len(ev), "line", "lines"), Evidence: capped(ev)}, true
}

// secretPatterns, each with substrings (lower-case) a match must contain:
// the regex runs only on lines that have one.
var secretPatterns = []struct {
	name  string
	hints []string
	re    *regexp.Regexp
}{
	{"private key", []string{"private key-----"}, regexp.MustCompile(`-----BEGIN ([A-Z]+ )?PRIVATE KEY-----`)},
	{"AWS access key", []string{"akia", "asia"}, regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{"GitHub token", []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}, regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{36,}\b`)},
	{"Slack token", []string{"xox"}, regexp.MustCompile(`\bxox[abprs]-[A-Za-z0-9-]{10,}`)},
	{"hard-coded credential", []string{`="`, `= "`, `='`, `= '`, `:"`, `: "`, `:'`, `: '`},
		regexp.MustCompile(`(?i)\b(password|passwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)\b["']?\s*[:=]\s*["'][^"'\s$<{]{8,}["']`)},
}

// secretRule: additions that look like credentials. The evidence names the
// kind and the line, never the value.
func secretRule(p *prepared) (Reason, bool) {
	var ev []Evidence
	for _, f := range p.all {
		for i, l := range f.added {
			for _, sp := range secretPatterns {
				if mentions(f.lower[i], sp.hints) && sp.re.MatchString(l.Text) {
					ev = append(ev, Evidence{Path: f.Path, Line: l.Number, Note: "looks like a " + sp.name})
					break
				}
			}
		}
	}
	if len(ev) == 0 {
		return Reason{}, false
	}
	return Reason{Rule: "secret", Weight: p.Policy.Weight("secret"),
		Summary: "adds what looks like a secret on " + plural(len(ev), "line", "lines"), Evidence: capped(ev)}, true
}

// sizeRule: lines added, the strongest single predictor of a defect.
func sizeRule(p *prepared) (Reason, bool) {
	s := p.stats
	w := p.Policy.Weight("size") * scale(float64(s.Additions), 1000)
	return Reason{Rule: "size", Weight: round1(w),
		Summary: fmt.Sprintf("%d lines added, %d deleted", s.Additions, s.Deletions)}, s.Additions > 0
}

// spreadRule: files and directories touched.
func spreadRule(p *prepared) (Reason, bool) {
	s := p.stats
	f := 0.5*scale(float64(s.Files-1), 49) + 0.5*scale(float64(s.Directories-1), 19)
	return Reason{Rule: "spread", Weight: round1(p.Policy.Weight("spread") * f),
		Summary: fmt.Sprintf("%s in %s", plural(s.Files, "file", "files"), plural(s.Directories, "directory", "directories"))}, s.Files > 1
}

// entropyRule: effort spread evenly over many files is harder to review
// than one large edit.
func entropyRule(p *prepared) (Reason, bool) {
	s := p.stats
	w := p.Policy.Weight("entropy") * s.Entropy * math.Min(1, float64(s.Files)/5)
	return Reason{Rule: "entropy", Weight: round1(w),
		Summary: fmt.Sprintf("changes spread across files (entropy %.2f)", s.Entropy)}, s.Entropy > 0
}

// code: a file of the program itself, where auth words in added lines
// mean auth logic (in SQL, docs, tests or manifests they mean little).
func code(cs []change.Class) bool {
	for _, c := range []change.Class{change.Tests, change.Docs, change.Migration, change.Infra, change.Config, change.Deps, change.Generated} {
		if slices.Contains(cs, c) {
			return false
		}
	}
	return true
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// policyPathRules: the policy's own path classes, a reason each.
func policyPathRules(p *prepared) []Reason {
	var out []Reason
	for _, pr := range p.Policy.Paths {
		var ev []Evidence
		for _, f := range p.all {
			if pr.Glob.Match(f.Path) {
				ev = append(ev, Evidence{Path: f.Path})
			}
		}
		if len(ev) > 0 {
			out = append(out, Reason{Rule: pr.Rule, Weight: pr.Weight,
				Summary: "policy: touches " + plural(len(ev), "file", "files") + " under " + pr.Glob.Pattern, Evidence: capped(ev)})
		}
	}
	return out
}
