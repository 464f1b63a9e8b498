// Package install is the vocabulary of GitHub App installations as ferry
// knows them: an installation and the repositories it gives ferry.
package install

// Installation is a GitHub App installation as ferry knows it.
type Installation struct {
	ID           int64
	AccountLogin string
	AccountType  string // User or Organization
	Suspended    bool
	Deleted      bool
}

// Repository is a repository an installation gives ferry access to.
type Repository struct {
	ID             int64
	InstallationID int64
	FullName       string
	Private        bool
}
