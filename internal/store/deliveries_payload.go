package store

import (
	"encoding/base64"
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

// decodePayload reads a payload column's value back.
func decodePayload(col string) ([]byte, error) {
	b64, ok := strings.CutPrefix(col, payloadS2)
	if !ok {
		return []byte(col), nil
	}
	c, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("decode payload: %w", err)
	}
	p, err := s2.Decode(nil, c)
	if err != nil {
		return nil, fmt.Errorf("decompress payload: %w", err)
	}
	return p, nil
}
