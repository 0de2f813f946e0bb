package bearer

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
)

// maxIssuers bounds the issuers of one bearer block: each runs its own
// fetches and refreshes, and a token's iss is matched against the list.
const maxIssuers = 16

// trustedIssuer is one issuer a provider accepts tokens from: its signing
// keys (shared process-wide, see issuerkeys.go) and a parser that accepts
// only tokens whose iss is exactly this issuer.
type trustedIssuer struct {
	url     string
	keysKey keySetKey
	keys    *issuerKeys
	parser  *jwt.Parser
}

// issuerOf selects the trusted issuer whose keys may verify token, by the
// token's iss claim read before anything is verified. Choosing the keys
// first is what keeps one issuer's keys from ever verifying a token that
// claims another: the parser then checks the signature with the chosen
// issuer's keys only, and iss against that issuer again. A token claiming
// no trusted issuer is refused here, before any key lookup, so it can
// never trigger a JWKS fetch.
func (p *Provider) issuerOf(token string) (*trustedIssuer, *authn.Failure) {
	iss, ok := unverifiedIssuer(token)
	if !ok {
		return nil, refuseMalformed()
	}
	// Linear: a block has a handful of issuers (maxIssuers at most), and
	// this runs only for tokens the cache does not know.
	for _, ti := range p.issuers {
		if ti.url == iss {
			return ti, nil
		}
	}
	return nil, refuseIssuer()
}

// unverifiedIssuer returns the iss claim of a compact JWS, having checked
// nothing else. It decodes the payload the way the JWT parser will
// (unpadded base64url, strict, then encoding/json), so the parser reads
// the same iss, and checks it again against the issuer chosen from it; a
// token read differently by the two is refused, never verified with the
// wrong keys. The token's size is already bounded by max_token_bytes.
func unverifiedIssuer(token string) (string, bool) {
	_, rest, ok := strings.Cut(token, ".")
	if !ok {
		return "", false
	}
	payload, signature, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(signature, ".") {
		return "", false
	}
	decoded, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil {
		return "", false
	}
	var claims struct {
		Issuer string `json:"iss"`
	}
	if err := json.Unmarshal(decoded, &claims); err != nil {
		return "", false
	}
	return claims.Issuer, true
}
