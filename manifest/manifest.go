// Package manifest publishes the files that describe ferry to the outside:
// the JSON Schema of .github/ferry.yml (embedded here so ferry validates
// with the very file it publishes) and the GitHub App manifest.
package manifest

import _ "embed"

// PolicySchema is the JSON Schema of .github/ferry.yml.
//
//go:embed ferry.schema.json
var PolicySchema []byte
