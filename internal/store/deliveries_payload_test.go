package store

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestPayloadCodec: whatever the payload, it reads back as it was; it is
// compressed only when that makes it shorter, and a corrupt compressed
// value is an error, never wrong bytes.
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
		back, err := decodePayload(col)
		if err != nil || !bytes.Equal(back, p) {
			t.Errorf("%d bytes read back as %d (%v)", len(p), len(back), err)
		}
	}
	var list []string
	for i := range 2000 {
		list = append(list, `{"n":`+strconv.Itoa(i)+`,"name":"item `+strconv.Itoa(i)+`","ok":true}`)
	}
	col, _ := encodePayload([]byte(`{"x":[`+strings.Join(list, ",")+`]}`), nil)
	if !strings.HasPrefix(col, payloadS2) || len(col) < 100 {
		t.Fatalf("not compressed: %d bytes", len(col))
	}
	for _, bad := range []string{col[:len(col)-8], payloadS2 + "!!", col[:len(col)-40] + "AAAA"} {
		if p, err := decodePayload(bad); err == nil {
			t.Errorf("corrupt value read as %d bytes", len(p))
		}
	}
}
