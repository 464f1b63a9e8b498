package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestPayloadCodec: whatever the payload, it reads back as it was; it is
// compressed only when that makes it shorter, and a corrupt compressed
// value (truncated, garbled, or changed inside a literal, which S2 alone
// would not notice) is ErrCorruptPayload, never wrong bytes.
func TestPayloadCodec(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 4096)
	for i := range noise {
		noise[i] = byte('a' + rnd.IntN(26)) // text, yet hardly compressible
	}
	var scratch []byte
	for _, p := range [][]byte{nil, []byte(`{}`), []byte(strings.Repeat(`{"a":1}`, 30)), []byte(`{"x":"` + strings.Repeat("ab", 5000) + `"}`), noise} {
		var col string
		col, scratch = encodePayload(p, scratch)
		if compressed := strings.HasPrefix(col, payloadS2); compressed && len(col) >= len(p) || !compressed && col != string(p) {
			t.Errorf("%d bytes stored as %d (compressed: %t)", len(p), len(col), compressed)
		}
		back, err := decodePayload(col, digestOf(p))
		if err != nil || !bytes.Equal(back, p) {
			t.Errorf("%d bytes read back as %d (%v)", len(p), len(back), err)
		}
	}
	var list []string
	for i := range 2000 {
		list = append(list, `{"n":`+strconv.Itoa(i)+`,"name":"item `+strconv.Itoa(i)+`","ok":true}`)
	}
	payload := []byte(`{"x":[` + strings.Join(list, ",") + `]}`)
	col, _ := encodePayload(payload, nil)
	if !strings.HasPrefix(col, payloadS2) || len(col) < 100 {
		t.Fatalf("not compressed: %d bytes", len(col))
	}
	// One byte of the first literal (the payload's opening text, stored as
	// is after S2's length header and tag) changed: it still decodes.
	c, err := base64.StdEncoding.DecodeString(col[len(payloadS2):])
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(c, []byte(`"x"`))
	if i < 0 {
		t.Fatalf("no literal in %q", c[:40])
	}
	c[i+1] = 'y'
	flipped := payloadS2 + base64.StdEncoding.EncodeToString(c)
	// A six-byte value whose header claims 4 GiB: refused before S2
	// allocates it.
	bomb := payloadS2 + base64.StdEncoding.EncodeToString([]byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0})
	for _, bad := range []string{col[:len(col)-8], payloadS2 + "!!", col[:len(col)-40] + "AAAA", flipped, bomb} {
		if p, err := decodePayload(bad, digestOf(payload)); !errors.Is(err, ErrCorruptPayload) {
			t.Errorf("corrupt value read as %d bytes (%v)", len(p), err)
		}
	}
	if back, err := decodePayload(col, ""); err != nil || !bytes.Equal(back, payload) {
		t.Errorf("without a digest: %d bytes (%v)", len(back), err)
	}
}

func digestOf(p []byte) string {
	sum := sha256.Sum256(p)
	return hex.EncodeToString(sum[:])
}
