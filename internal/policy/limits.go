package policy

// Limits bound what ferry reads with git of a pull request GitHub's API
// does not list whole (over 3,000 files). Past a limit ferry assesses what
// it read, marked partial: never the fast path.
//
// A policy may lower them, never raise them: DefaultLimits are also the
// ceiling (the schema's maxima, and Capped). The policy is read from the
// base branch, so a pull request's author cannot touch them at all.
type Limits struct {
	// MaxFiles is how many changed files are listed. Listing costs a few
	// hundred bytes a file (no contents are read), and the risk rules
	// run over every file listed.
	MaxFiles int
	// MaxFileBytes: a file whose old or new version is larger is listed
	// without its patch (its content is not read).
	MaxFileBytes int64
	// MaxPatchBytes is the file content read for patches, in all; the
	// patches kept are about as large.
	MaxPatchBytes int64
}

// DefaultLimits are the limits of a policy that names none, and the most
// any policy may ask for.
//
//   - 20,000 files: nearly seven times what GitHub's API lists, enough for
//     any change a person reviews; listing them costs a few MB.
//   - 1 MiB a file: a larger text file is data or generated (GitHub's own
//     diff view gives up well before), and diffing two versions of that
//     size stays within a second or two.
//   - 32 MiB of content in all, read smallest file first: some 800,000
//     lines. The risk rules keep about three copies of the lines a patch
//     adds, so a job's live heap grows by about four times this; with
//     ferry's four workers reading huge pull requests at once, under a
//     GiB with the collector's slack.
func DefaultLimits() Limits {
	return Limits{MaxFiles: 20_000, MaxFileBytes: 1 << 20, MaxPatchBytes: 32 << 20}
}

// Capped returns l with every field within DefaultLimits; zero (unset)
// fields become the default. Parse already refuses larger values; this
// guards a Policy made any other way.
func (l Limits) Capped() Limits {
	d := DefaultLimits()
	if l.MaxFiles <= 0 || l.MaxFiles > d.MaxFiles {
		l.MaxFiles = d.MaxFiles
	}
	if l.MaxFileBytes <= 0 || l.MaxFileBytes > d.MaxFileBytes {
		l.MaxFileBytes = d.MaxFileBytes
	}
	if l.MaxPatchBytes <= 0 || l.MaxPatchBytes > d.MaxPatchBytes {
		l.MaxPatchBytes = d.MaxPatchBytes
	}
	return l
}

// rawLimits mirrors the file's limits section.
type rawLimits struct {
	MaxFiles      *int   `json:"max_files"`
	MaxFileBytes  *int64 `json:"max_file_bytes"`
	MaxPatchBytes *int64 `json:"max_patch_bytes"`
}

// limits merges the file's limits over the defaults; the schema has
// already kept each within 1 and its default.
func limits(r *rawLimits) Limits {
	l := DefaultLimits()
	if r == nil {
		return l
	}
	if r.MaxFiles != nil {
		l.MaxFiles = *r.MaxFiles
	}
	if r.MaxFileBytes != nil {
		l.MaxFileBytes = *r.MaxFileBytes
	}
	if r.MaxPatchBytes != nil {
		l.MaxPatchBytes = *r.MaxPatchBytes
	}
	return l.Capped()
}
