package bearer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
)

// TestKeyFitsAlgorithm covers what the JWKS could hold but the allow-list
// keeps away: whatever alg a token names, only a key of that family, and
// never a shared secret, verifies it.
func TestKeyFitsAlgorithm(t *testing.T) {
	rsaPub := rsaKey(t).Public()
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	secret := []byte("a shared secret")

	tests := []struct {
		alg string
		key crypto.PublicKey
		ok  bool
	}{
		{"RS256", rsaPub, true},
		{"PS512", rsaPub, true},
		{"RS256", p256.Public(), false},
		{"RS256", secret, false},
		{"HS256", secret, false},
		{"HS256", rsaPub, false},
		{"ES256", p256.Public(), true},
		{"ES256", p384.Public(), false},
		{"ES384", p384.Public(), true},
		{"ES256", rsaPub, false},
		{"EdDSA", edPub, true},
		{"EdDSA", p256.Public(), false},
		{"none", rsaPub, false},
	}
	for _, tt := range tests {
		if got := keyFitsAlgorithm(tt.key, tt.alg); got != tt.ok {
			t.Errorf("keyFitsAlgorithm(%T, %s) = %v, want %v", tt.key, tt.alg, got, tt.ok)
		}
	}
}
