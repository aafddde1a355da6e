package texture

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzReadPNGMeta checks that ReadPNGMeta never panics or hangs on arbitrary input, and that
// whatever it accepts is consistent: keywords of 1 to 79 Latin-1 characters, and entries that
// EncodePNG can write come back unchanged when written and read again.
func FuzzReadPNGMeta(f *testing.F) {
	img := testImage(2, 2)
	var buf bytes.Buffer
	for _, m := range []Meta{
		nil,
		{{"k", "v"}},
		{{"Software", "Tessera"}, {"tessera.seed", "42"}, {"Größe", "Grüße 日本"}},
	} {
		buf.Reset()
		if err := EncodePNG(&buf, img, m); err != nil {
			f.Fatal(err)
		}
		f.Add(append([]byte(nil), buf.Bytes()...))
	}
	base := buf.Bytes()[:33:33]
	rest := buf.Bytes()[33:]
	hand := append(append([]byte(nil), base...), chunkBytes("tEXt", []byte("Title\x00caf\xe9"))...)
	hand = append(hand, chunkBytes("zTXt", append([]byte("z\x00\x00"), zlibBytes(f, []byte("compressed text"))...))...)
	hand = append(hand, chunkBytes("iTXt", append([]byte("i\x00\x01\x00en\x00I\x00"), zlibBytes(f, []byte("ünïcode"))...))...)
	f.Add(append(hand, rest...))

	f.Fuzz(func(t *testing.T, data []byte) {
		// Random mutations almost never keep CRCs valid, so also check the input with its CRCs
		// repaired: that is what exercises the parsing of the text chunks.
		checkReadPNGMeta(t, img, data)
		checkReadPNGMeta(t, img, fixCRCs(data))
	})
}

// fixCRCs returns a copy of data in which the CRC of every complete chunk after the signature is
// recomputed, stopping at the first chunk that overruns the data.
func fixCRCs(data []byte) []byte {
	b := append([]byte(nil), data...)
	for p := 8; len(b)-p >= 12; {
		n := binary.BigEndian.Uint32(b[p:])
		if uint64(n) > uint64(len(b)-p-12) {
			break
		}
		end := p + 8 + int(n)
		binary.BigEndian.PutUint32(b[end:], crc32.ChecksumIEEE(b[p+4:end]))
		p = end + 4
	}
	return b
}

// checkReadPNGMeta runs ReadPNGMeta on data and checks the consistency of what it accepts.
func checkReadPNGMeta(t *testing.T, img *image.NRGBA, data []byte) {
	m, err := ReadPNGMeta(bytes.NewReader(data))
	if err != nil {
		if m != nil {
			t.Fatalf("metadata %q returned with error %v", m, err)
		}
		return
	}
	var ok Meta
	for _, kv := range m {
		if n := utf8.RuneCountInString(kv.Key); n < 1 || n > 79 {
			t.Fatalf("key %q has %d characters", kv.Key, n)
		}
		for _, r := range kv.Key {
			if r > 0xff {
				t.Fatalf("key %q has a non-Latin-1 character", kv.Key)
			}
		}
		if _, err := iTXtData(kv); err == nil {
			ok = append(ok, kv)
		}
	}
	var out bytes.Buffer
	if err := EncodePNG(&out, img, ok); err != nil {
		t.Fatalf("EncodePNG of accepted entries: %v", err)
	}
	back, err := ReadPNGMeta(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatalf("re-reading: %v", err)
	}
	if len(ok) == 0 && len(back) == 0 {
		return
	}
	if !reflect.DeepEqual(back, ok) {
		t.Fatalf("round trip: got %q, want %q", back, ok)
	}
}
