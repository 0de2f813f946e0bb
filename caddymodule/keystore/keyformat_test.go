package keystore

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func mustFormat(t testing.TB, prefix string) KeyFormat {
	t.Helper()
	f, err := NewKeyFormat(prefix)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestKeyFormatGenerateIsWellFormed(t *testing.T) {
	f := mustFormat(t, DefaultKeyPrefix)
	seen := map[string]bool{}
	for range 200 {
		k := f.Generate()
		if err := f.Check(k); err != nil {
			t.Fatalf("generated key refused: %v", err)
		}
		if len(k) != len(DefaultKeyPrefix)+49 || !strings.HasPrefix(k, DefaultKeyPrefix) {
			t.Fatalf("key has length %d", len(k))
		}
		if seen[k] {
			t.Fatal("generated the same key twice")
		}
		seen[k] = true
		if got, want := f.DisplayPrefix(k), k[:len(DefaultKeyPrefix)+8]; got != want {
			t.Fatalf("display prefix %q, want %q", got, want)
		}
	}
}

func TestKeyFormatCheckRefusals(t *testing.T) {
	f := mustFormat(t, "rsa_live_")
	good := f.Generate()
	random := good[len("rsa_live_") : len("rsa_live_")+43]
	otherChecksum := good[:len(good)-6] + flip(good[len(good)-6:], 0)
	tests := []struct {
		name      string
		candidate string
		want      error
	}{
		{"empty", "", ErrKeyPrefix},
		{"other prefix", "rsa_test_" + good[len("rsa_live_"):], ErrKeyPrefix},
		{"prefix only", "rsa_live_", ErrKeyMalformed},
		{"truncated", good[:len(good)-1], ErrKeyMalformed},
		{"extended", good + "A", ErrKeyMalformed},
		{"padding", good[:len(good)-1] + "=", ErrKeyMalformed},
		{"standard base64 char", "rsa_live_+" + good[len("rsa_live_")+1:], ErrKeyMalformed},
		{"random part changed", "rsa_live_" + flip(random, 5) + good[len(good)-6:], ErrKeyChecksum},
		{"checksum changed", otherChecksum, ErrKeyChecksum},
		{"huge", "rsa_live_" + strings.Repeat("A", 100<<10), ErrKeyMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.Check(tt.candidate)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
			if tt.candidate != "" && strings.Contains(err.Error(), tt.candidate) {
				t.Fatal("error message quotes the candidate")
			}
		})
	}
}

// Every single-byte change of a valid key is refused: CRC-32 catches any
// change confined to 32 bits, and a change in the checksum itself either
// breaks it or breaks its canonical form.
func TestKeyFormatCheckCatchesEverySingleByteChange(t *testing.T) {
	f := mustFormat(t, DefaultKeyPrefix)
	key := f.Generate()
	for i := range len(key) {
		for _, c := range []byte(base64URLAlphabet + "=+/ .") {
			if c == key[i] {
				continue
			}
			changed := key[:i] + string(c) + key[i+1:]
			if f.Check(changed) == nil {
				t.Fatalf("changing byte %d to %q still passes", i, c)
			}
		}
	}
}

// A random part whose last character has data in its unused bits is not
// the canonical encoding of any 32 bytes, so it is refused even with a
// correct checksum.
func TestKeyFormatRefusesNonCanonicalEncoding(t *testing.T) {
	f := mustFormat(t, DefaultKeyPrefix)
	key := f.Generate()
	p := len(DefaultKeyPrefix)
	body := []byte(key[:p+randomChars])
	last := base64URLValue[body[len(body)-1]]
	body[len(body)-1] = base64URLAlphabet[last|1]
	sum := make([]byte, checksumChars)
	putChecksum(sum, body)
	if err := f.Check(string(body) + string(sum)); !errors.Is(err, ErrKeyMalformed) {
		t.Fatalf("Check = %v, want ErrKeyMalformed", err)
	}
}

func TestNewKeyFormatValidatesPrefix(t *testing.T) {
	for _, ok := range []string{"rsa_live_", "ab_", "k9_", strings.Repeat("a", 31) + "_"} {
		if _, err := NewKeyFormat(ok); err != nil {
			t.Errorf("NewKeyFormat(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a_", "rsa_live", "RSA_live_", "rsa-live_", "rsa live_", strings.Repeat("a", 32) + "_", "rsä_"} {
		if _, err := NewKeyFormat(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("NewKeyFormat(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

// FuzzKeyFormatCheck: Check never panics, and whatever it accepts is
// exactly the key Generate would have made from the same random bytes.
func FuzzKeyFormatCheck(f *testing.F) {
	format := mustFormat(f, DefaultKeyPrefix)
	f.Add(format.Generate())
	f.Add(format.Generate()[:20])
	f.Add("rsa_live_")
	f.Add("")
	f.Add("rsa_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, candidate string) {
		err := format.Check(candidate)
		if err == nil {
			p := len(DefaultKeyPrefix)
			raw, decErr := base64.RawURLEncoding.Strict().DecodeString(candidate[p : p+randomChars])
			if decErr != nil || len(raw) != randomBytes {
				t.Fatalf("accepted a key whose random part does not decode: %v", decErr)
			}
			var random [randomBytes]byte
			copy(random[:], raw)
			if rebuilt := format.compose(&random); rebuilt != candidate {
				t.Fatalf("accepted %q, which is not the canonical key %q", candidate, rebuilt)
			}
			return
		}
		if !errors.Is(err, ErrKeyPrefix) && !errors.Is(err, ErrKeyMalformed) && !errors.Is(err, ErrKeyChecksum) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// flip replaces the character at i with another base64url character.
func flip(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}
