package bearer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"strings"
)

// DefaultAlgorithms are the signature algorithms accepted when none are
// configured: what OpenID providers commonly sign access tokens with.
var DefaultAlgorithms = []string{"RS256", "PS256", "ES256", "EdDSA"}

// minRSABits is the smallest RSA key accepted for a signature; shorter
// keys can be factored by a determined attacker.
const minRSABits = 2048

// publicKeyAlgorithms are the JWS algorithms this track can verify: public-key
// signatures only. HMAC (HS*) is left out on purpose: its key is a shared
// secret, and accepting it next to public keys is the classic way to let a
// caller sign tokens with the issuer's public key as the secret.
var publicKeyAlgorithms = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true,
	"EdDSA": true,
}

// checkAlgorithm explains why alg may not be configured, or returns nil.
func checkAlgorithm(alg string) error {
	switch {
	case publicKeyAlgorithms[alg]:
		return nil
	case strings.EqualFold(alg, "none"):
		return fmt.Errorf(`algorithm "none" would accept unsigned tokens`)
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		return fmt.Errorf("algorithm %q is HMAC, a shared-secret signature; only public-key algorithms can be verified against an issuer's JWKS", alg)
	default:
		return fmt.Errorf("algorithm %q is not supported (supported: RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA)", alg)
	}
}

// keyFitsAlgorithm reports whether key is the kind of key alg is verified
// with. The JWT library checks key types too; checking here as well keeps
// the guarantee in one visible place, whatever the JWKS holds: a token can
// never have its signature checked with a key of another family.
func keyFitsAlgorithm(key crypto.PublicKey, alg string) bool {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		k, ok := key.(*rsa.PublicKey)
		return ok && k.N.BitLen() >= minRSABits
	case "ES256":
		return ecdsaOn(key, elliptic.P256())
	case "ES384":
		return ecdsaOn(key, elliptic.P384())
	case "ES512":
		return ecdsaOn(key, elliptic.P521())
	case "EdDSA":
		k, ok := key.(ed25519.PublicKey)
		return ok && len(k) == ed25519.PublicKeySize
	default:
		return false
	}
}

func ecdsaOn(key crypto.PublicKey, curve elliptic.Curve) bool {
	k, ok := key.(*ecdsa.PublicKey)
	return ok && k.Curve == curve
}
