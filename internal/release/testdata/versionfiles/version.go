// Package version says which build of the service is running.
package version

import "runtime/debug"

// Set by the release: ferry writes Version, the build writes Commit.
const (
	// Version is the release this source is.
	Version = "v1.2.3"
	// Name is not a version.
	Name = "api"
)

// Commit is the git commit, set with -ldflags at build time.
var Commit = "unknown"

// Go is the toolchain the binary was built with.
func Go() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.GoVersion
	}
	return "unknown"
}
