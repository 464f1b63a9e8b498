// Package control is the vocabulary of people's control over ferry: a
// pause in force, and an approval of a pull request's head commit.
package control

import "time"

// Pause is a pause in force.
type Pause struct {
	Environment string // AllEnvironments for the whole repository
	By, Reason  string
	At          time.Time
}

// AllEnvironments is the environment of a repository-wide pause.
const AllEnvironments = "*"

// Approval is a human approval of a head commit: it binds to that commit,
// and a push makes another commit the head.
type Approval struct {
	By      string
	HeadSHA string
	At      time.Time
}
