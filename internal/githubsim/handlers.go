package githubsim

import "maps"

// handlers maps GitHub's operationIds to the simulator's implementation.
func handlers() map[string]handler {
	h := map[string]handler{
		"meta/root":                                  getRoot,
		"repos/get":                                  getRepo,
		"repos/get-content":                          getContent,
		"repos/create-or-update-file-contents":       putContent,
		"repos/compare-commits-with-basehead":        compare,
		"pulls/list-files":                           listPRFiles,
		"pulls/list-commits":                         listPRCommits,
		"pulls/list":                                 listPulls,
		"pulls/get":                                  getPull,
		"pulls/create":                               createPull,
		"pulls/update":                               updatePull,
		"issues/list-comments":                       listComments,
		"issues/create-comment":                      createComment,
		"issues/update-comment":                      updateComment,
		"issues/delete-comment":                      deleteComment,
		"issues/add-labels":                          addLabels,
		"issues/remove-label":                        removeLabel,
		"reactions/create-for-issue-comment":         createReaction,
		"repos/get-collaborator-permission-level":    getPermission,
		"checks/create":                              createCheckRun,
		"checks/update":                              updateCheckRun,
		"checks/list-annotations":                    listAnnotations,
		"checks/list-for-ref":                        listCheckRunsForRef,
		"repos/create-deployment":                    createDeployment,
		"repos/list-deployments":                     listDeployments,
		"repos/create-deployment-status":             createDeploymentStatus,
		"apps/list-installations":                    listInstallations,
		"apps/create-installation-access-token":      createAccessToken,
		"apps/list-repos-accessible-to-installation": listInstallationRepos,
		"apps/list-webhook-deliveries":               listHookDeliveries,
		"apps/redeliver-webhook-delivery":            redeliverHook,
		"issues/create":                              createIssue,
		"issues/list-for-repo":                       listIssues,
		"issues/create-label":                        createLabel,
		"issues/list-labels-for-repo":                listRepoLabels,
		"issues/get-label":                           getLabel,
		"issues/update-label":                        updateLabel,
		"issues/delete-label":                        deleteLabel,
		"apps/get-authenticated":                     getAuthenticatedApp,
		"apps/create-from-manifest":                  createFromManifest,
		"repos/get-branch":                           getBranch,
		"repos/get-status-checks-protection":         getStatusChecksProtection,
		"repos/get-branch-protection":                getBranchProtection,
		"repos/update-branch-protection":             updateBranchProtection,
		"repos/delete-branch-protection":             deleteBranchProtection,
		"checks/list-suites-for-ref":                 listSuitesForRef,
		"repos/get-combined-status-for-ref":          getCombinedStatus,
		"repos/list-commit-statuses-for-ref":         listStatuses,
		"repos/create-commit-status":                 createStatus,
		"issues/get-comment":                         getComment,
	}
	maps.Copy(h, gitHandlers())
	maps.Copy(h, releaseHandlers())
	return h
}

// gitHandlers are the Git Data API's: refs, commits and trees.
func gitHandlers() map[string]handler {
	return map[string]handler{
		"git/get-ref":       getRef,
		"git/get-commit":    getGitCommit,
		"git/create-tree":   createTree,
		"git/create-commit": createGitCommit,
		"git/create-ref":    createRef,
		"git/update-ref":    updateRef,
		"git/delete-ref":    deleteRef,
	}
}

// releaseHandlers are the operations of releases and their pull requests.
func releaseHandlers() map[string]handler {
	return map[string]handler{
		"repos/create-release":                            createRelease,
		"repos/get-release-by-tag":                        getReleaseByTag,
		"repos/list-pull-requests-associated-with-commit": listCommitPulls,
		"actions/review-custom-gates-for-run":             reviewGate,
		"actions/list-workflow-run-artifacts":             listRunArtifacts,
		"actions/download-artifact":                       downloadArtifact,
		"actions/list-workflow-runs-for-repo":             listWorkflowRuns,
	}
}
