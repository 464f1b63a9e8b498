package deploygate

import (
	"slices"
	"strings"
)

// CheckRun is one check run on a commit.
type CheckRun struct {
	ID                 int64
	Name               string
	AppID              int64
	Status, Conclusion string
}

// Status is one commit status (the older API some CI still uses).
type Status struct{ Context, State string }

// Suite is one app's check suite on a commit.
type Suite struct {
	AppID              int64
	App                string
	Status, Conclusion string
}

// Source says where the list of required checks came from.
type Source string

// Sources, in the order ferry tries them.
const (
	FromProtection Source = "branch protection"
	FromPolicy     Source = "the policy's required_checks"
	FromSuites     Source = "every check suite of other apps"
)

// Required is what must pass, and from where that is known.
type Required struct {
	Source Source
	Names  []string // check-run names or status contexts; none with FromSuites
}

// Observed is what a commit has.
type Observed struct {
	Runs     []CheckRun
	Statuses []Status
	Suites   []Suite
	Self     int64 // ferry's own app: its runs and suites never count
}

// Checks is the verdict on a commit's required checks.
type Checks struct {
	Source          Source
	Pending, Failed []string
}

// Green reports whether every required check passed.
func (c Checks) Green() bool { return len(c.Pending) == 0 && len(c.Failed) == 0 }

// Summary says what is missing, in plain words.
func (c Checks) Summary() string {
	var parts []string
	if len(c.Failed) > 0 {
		parts = append(parts, "failed "+codes(c.Failed))
	}
	if len(c.Pending) > 0 {
		parts = append(parts, "waiting for "+codes(c.Pending))
	}
	return strings.Join(parts, "; ") + " (" + string(c.Source) + ")"
}

func codes(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = `"` + truncate(n, 80) + `"`
	}
	return strings.Join(out, ", ")
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// passed: GitHub's branch protection counts neutral and skipped as passing.
func passed(conclusion string) bool {
	return conclusion == "success" || conclusion == "neutral" || conclusion == "skipped"
}

// Evaluate judges a commit's checks against what is required. Names match
// check runs of any app but ferry's (the newest run of a name counts) or
// status contexts; a name only ferry reports is ignored — ferry's own
// checks are not CI. Without names, every suite of another app and every
// status must have passed.
func Evaluate(req Required, obs Observed) Checks {
	c := Checks{Source: req.Source}
	if req.Source == FromSuites {
		return evaluateSuites(c, obs)
	}
	for _, name := range req.Names {
		switch state, selfOnly := latest(name, obs); {
		case selfOnly:
		case state == "pending":
			c.Pending = append(c.Pending, name)
		case state == "failed":
			c.Failed = append(c.Failed, name)
		}
	}
	return c
}

// latest is the state of a required name: passed, pending (missing or not
// finished) or failed.
func latest(name string, obs Observed) (state string, selfOnly bool) {
	var newest *CheckRun
	self := false
	for i, r := range obs.Runs {
		if r.Name != name {
			continue
		}
		if r.AppID == obs.Self {
			self = true
			continue
		}
		if newest == nil || r.ID > newest.ID {
			newest = &obs.Runs[i]
		}
	}
	if newest != nil {
		switch {
		case newest.Status != "completed":
			return "pending", false
		case passed(newest.Conclusion):
			return "passed", false
		}
		return "failed", false
	}
	if i := slices.IndexFunc(obs.Statuses, func(s Status) bool { return s.Context == name }); i >= 0 {
		switch obs.Statuses[i].State {
		case "success":
			return "passed", false
		case "pending":
			return "pending", false
		}
		return "failed", false
	}
	return "pending", self
}

func evaluateSuites(c Checks, obs Observed) Checks {
	for _, s := range obs.Suites {
		switch {
		case s.AppID == obs.Self:
		case s.Status != "completed":
			c.Pending = append(c.Pending, s.App)
		case !passed(s.Conclusion):
			c.Failed = append(c.Failed, s.App)
		}
	}
	for _, s := range obs.Statuses {
		switch s.State {
		case "success":
		case "pending":
			c.Pending = append(c.Pending, s.Context)
		default:
			c.Failed = append(c.Failed, s.Context)
		}
	}
	return c
}
