package store

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/klauspost/compress/s2"
)

// A delivery's payload is stored compressed: GitHub's JSON shrinks about
// sevenfold with S2 (a 28 KB pull_request to 4 KB), which is that much
// less for the database to write, log and sync for every delivery. The
// column is text on both databases (PostgreSQL's holds only UTF-8), so the
// compressed bytes are base64, after a prefix naming the codec. A payload
// is a JSON object, which never starts with it: rows written before (or a
// payload compression does not shrink) are the JSON itself, read as is.
const payloadS2 = "s2:"

// encodePayload is the column's value for payload: compressed when that
// makes it shorter. scratch is a buffer for the compression, returned for
// the next call's reuse.
func encodePayload(payload, scratch []byte) (string, []byte) {
	if n := s2.MaxEncodedLen(len(payload)); n < 0 || len(payload) < 256 {
		return string(payload), scratch // too small to gain (or too large to encode)
	} else if cap(scratch) < n {
		scratch = make([]byte, n)
	}
	c := s2.Encode(scratch[:cap(scratch)], payload)
	if len(payloadS2)+base64.StdEncoding.EncodedLen(len(c)) >= len(payload) {
		return string(payload), scratch
	}
	var sb strings.Builder
	sb.Grow(len(payloadS2) + base64.StdEncoding.EncodedLen(len(c)))
	sb.WriteString(payloadS2)
	enc := base64.NewEncoder(base64.StdEncoding, &sb)
	_, _ = enc.Write(c) // a strings.Builder does not fail
	_ = enc.Close()
	return sb.String(), scratch
}

// ErrCorruptPayload: a stored payload does not read back as the bytes
// ferry recorded. Reading it again cannot help.
var ErrCorruptPayload = errors.New("stored payload is corrupt")

// maxPayload bounds what a compressed value may claim to hold before it is
// decoded (S2 allocates what its header says): well above GitHub's 25 MB
// webhook cap, which the edge enforces before anything is stored.
const maxPayload = 64 << 20

// decodePayload reads a payload column's value back. S2's block format
// carries no checksum, so a decoded payload is checked against digest, the
// SHA-256 the edge recorded with it ("" skips the check).
func decodePayload(col, digest string) ([]byte, error) {
	b64, ok := strings.CutPrefix(col, payloadS2)
	if !ok {
		return []byte(col), nil
	}
	c, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("%w: base64: %v", ErrCorruptPayload, err)
	}
	if n, err := s2.DecodedLen(c); err != nil || n > maxPayload {
		return nil, fmt.Errorf("%w: claims %d bytes (%v)", ErrCorruptPayload, n, err)
	}
	p, err := s2.Decode(nil, c)
	if err != nil {
		return nil, fmt.Errorf("%w: decompress: %v", ErrCorruptPayload, err)
	}
	if digest == "" {
		return p, nil
	}
	if sum := sha256.Sum256(p); hex.EncodeToString(sum[:]) != digest {
		return nil, fmt.Errorf("%w: its SHA-256 differs from the one recorded", ErrCorruptPayload)
	}
	return p, nil
}
