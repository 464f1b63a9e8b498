package githubsim

// handlers maps GitHub's operationIds to the simulator's implementation.
func handlers() map[string]handler {
	return map[string]handler{
		"repos/get":                                  getRepo,
		"repos/get-content":                          getContent,
		"repos/compare-commits-with-basehead":        compare,
		"pulls/list-files":                           listPRFiles,
		"pulls/list-commits":                         listPRCommits,
		"pulls/list":                                 listPulls,
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
		"repos/create-deployment":                    createDeployment,
		"repos/create-deployment-status":             createDeploymentStatus,
		"git/get-ref":                                getRef,
		"git/get-commit":                             getGitCommit,
		"git/create-tree":                            createTree,
		"git/create-commit":                          createGitCommit,
		"git/create-ref":                             createRef,
		"git/update-ref":                             updateRef,
		"apps/list-installations":                    listInstallations,
		"apps/create-installation-access-token":      createAccessToken,
		"apps/list-repos-accessible-to-installation": listInstallationRepos,
		"apps/list-webhook-deliveries":               listHookDeliveries,
		"apps/redeliver-webhook-delivery":            redeliverHook,
	}
}
