package app

import (
	"context"
	"fmt"

	ghadapter "github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/policy"
)

// policyAt reads .github/ferry.yml at ref — the one place ferry reads it —
// once per job; label names ref for people. Which ref is the caller's
// rule: the base commit for risk (a change cannot loosen its own policy),
// the default branch for commands, environments and deploy gates.
func (a *App) policyAt(ctx context.Context, installation int64, owner, repo, ref, label string) (policy.Loaded, error) {
	data, err := a.github(installation).FileContent(ctx, owner, repo, policy.Path, ref)
	notFound := ghadapter.Classify(err) == ghadapter.KindNotFound
	if err != nil && !notFound {
		return policy.Loaded{}, fmt.Errorf("read %s at %s: %w", policy.Path, label, err)
	}
	return policy.Load(data, !notFound, label, a.policyOptions), nil
}

// defaultPolicy is the policy on the default branch: what commands,
// environments and deploy gates follow.
func (a *App) defaultPolicy(ctx context.Context, installation int64, owner, repo, branch string) (policy.Loaded, error) {
	return a.policyAt(ctx, installation, owner, repo, branch, branch)
}
