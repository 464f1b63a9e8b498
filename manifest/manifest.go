// Package manifest publishes the files that describe ferry to the outside:
// the JSON Schema of .github/ferry.yml (embedded here so ferry validates
// with the very file it publishes) and the GitHub App manifest.
package manifest

import _ "embed"

// PolicySchema is the JSON Schema of .github/ferry.yml.
//
//go:embed ferry.schema.json
var PolicySchema []byte

// AppManifest is the GitHub App manifest (github-app.json): the
// permissions and events the App asks for.
//
//go:embed github-app.json
var AppManifest []byte
