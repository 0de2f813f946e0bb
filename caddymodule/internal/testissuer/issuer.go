// Package testissuer is a real OpenID issuer for tests: it serves a
// discovery document and a JWKS over HTTP on loopback and signs tokens
// with keys it generated, so that tests exercise the bearer track exactly
// as a deployment would, network fetches included.
package testissuer

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// Issuer serves discovery and a JWKS and mints tokens.
type Issuer struct {
	// URL is the issuer identifier, the `iss` of its tokens.
	URL string

	server *httptest.Server
	mu     sync.Mutex
	keys   map[string]*rsa.PrivateKey // by kid; published in the JWKS
	kid    string                     // signs new tokens
	hits   int                        // JWKS fetches
}

// New starts an issuer with one RSA-2048 key, kid "k1". It stops when the
// test ends.
func New(t testing.TB) *Issuer {
	t.Helper()
	iss := &Issuer{keys: map[string]*rsa.PrivateKey{}}
	iss.server = httptest.NewServer(http.HandlerFunc(iss.serve))
	t.Cleanup(iss.server.Close)
	iss.URL = iss.server.URL
	iss.AddKey(t, "k1")
	return iss
}

func (iss *Issuer) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                iss.URL,
			"jwks_uri":                              iss.URL + "/jwks",
			"token_endpoint":                        iss.URL + "/token",
			"authorization_endpoint":                iss.URL + "/authorize",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	case "/jwks":
		iss.mu.Lock()
		iss.hits++
		set := jose.JSONWebKeySet{}
		for kid, k := range iss.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: kid, Algorithm: "RS256", Use: "sig"})
		}
		iss.mu.Unlock()
		_ = json.NewEncoder(w).Encode(set)
	default:
		http.NotFound(w, r)
	}
}

// AddKey publishes a new RSA key and makes it the signing key.
func (iss *Issuer) AddKey(t testing.TB, kid string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.keys[kid] = k
	iss.kid = kid
}

// RemoveKey stops publishing kid.
func (iss *Issuer) RemoveKey(kid string) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	delete(iss.keys, kid)
}

// JWKSHits counts the JWKS fetches served so far.
func (iss *Issuer) JWKSHits() int {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.hits
}

// Key returns the private key kid, for tests that forge tokens.
func (iss *Issuer) Key(kid string) *rsa.PrivateKey {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.keys[kid]
}

// Claims returns valid access-token claims for clientID with scopes:
// issued now, expiring in an hour.
func (iss *Issuer) Claims(clientID string, scopes string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss":       iss.URL,
		"sub":       clientID,
		"client_id": clientID,
		"aud":       "gatehouse",
		"scope":     scopes,
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"exp":       now.Add(time.Hour).Unix(),
		"jti":       rand.Text(),
	}
}

// Sign signs claims RS256 with the current key, header typ at+jwt.
func (iss *Issuer) Sign(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	iss.mu.Lock()
	kid, key := iss.kid, iss.keys[iss.kid]
	iss.mu.Unlock()
	return SignWith(t, jwt.SigningMethodRS256, key, kid, claims)
}

// SignWith signs claims with any method and key, header typ at+jwt.
func SignWith(t testing.TB, method jwt.SigningMethod, key crypto.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["typ"] = "at+jwt"
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
