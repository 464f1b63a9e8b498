package risk

// Learned is what the model learned from the repository's own history
// says about a change, next to the rules.
type Learned struct {
	// Score is how much riskier the change is than the repository's
	// recent ones: the percentile (0–100) of its learned score among them.
	Score float64 `json:"score"`
	// ModelShare is the model's share of Score (0–1): while labels are
	// few the rules' percentile makes up the rest.
	ModelShare float64 `json:"model_share"`
	// Changes is how many of the repository's changes it learned from.
	Changes int `json:"changes"`
	// Decides: the level follows from Score and the policy's fast-path
	// share (no explicit thresholds).
	Decides       bool            `json:"decides"`
	FastPathShare float64         `json:"fast_path_share"`
	Reasons       []LearnedReason `json:"reasons,omitempty"`
}

// FastPathShare100 is the fast-path share in percent, for templates.
func (l Learned) FastPathShare100() float64 { return 100 * l.FastPathShare }

// LearnedReason is one of the model's top contributions in words;
// Paths are its evidence (repository content: quote and escape them).
type LearnedReason struct {
	Summary string   `json:"summary"`
	Paths   []string `json:"paths,omitempty"`
}

// LevelAt is the level of a learned score (a percentile of the
// repository's recent changes) for a target fast-path share: below the
// share low, the top tenth high, the rest medium; never under the floor.
func LevelAt(score, fastPathShare float64, floor Level) Level {
	l := Medium
	switch {
	case score < 100*fastPathShare:
		l = Low
	case score >= 90:
		l = High
	}
	return Max(l, floor)
}

// WithLearned adds what was learned; when it decides, the level follows
// from it, never under the floor (a docs- or tests-only change keeps its
// fast path).
func (a Assessment) WithLearned(l Learned) Assessment {
	a.Learned = &l
	if !l.Decides || a.FastPath != "" {
		return a
	}
	a.Level = LevelAt(l.Score, l.FastPathShare, a.Floor)
	return a
}
