package bearer

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
)

// accessClaims are the claims of an access token that this track reads.
// The registered claims (iss, sub, aud, exp, nbf, iat, jti) are checked by
// the JWT parser.
type accessClaims struct {
	jwt.RegisteredClaims
	// Scope is RFC 9068's scope claim.
	Scope scopeClaim `json:"scope"`
	// Scp is the scope claim some issuers (Azure AD, Okta) use instead.
	Scp scopeClaim `json:"scp"`
	// ClientID is RFC 9068's client_id: the OAuth client the token was issued to.
	ClientID string `json:"client_id"`
	// AuthorizedParty is OpenID Connect's azp, the client id in some issuers' tokens.
	AuthorizedParty string `json:"azp"`
}

// identity is what the verified claims say about the caller. The client is
// client_id, else azp, else sub. The subject is sub; a client-credentials
// token from an issuer that omits sub (IdentityServer does) is its client's
// own, so its subject is the client id.
func (c *accessClaims) identity(kid string) authn.Identity {
	client := c.ClientID
	if client == "" {
		client = c.AuthorizedParty
	}
	if client == "" {
		client = c.Subject
	}
	subject := c.Subject
	if subject == "" {
		subject = client
	}
	return authn.Identity{
		Track:     authn.TrackBearer,
		Subject:   subject,
		ClientID:  client,
		Issuer:    c.Issuer,
		Scopes:    mergeScopes(c.Scope, c.Scp),
		KeyID:     kid,
		ExpiresAt: c.ExpiresAt.Time,
	}
}

// mergeScopes joins the scope and scp claims, keeping first-seen order and
// dropping repeats.
func mergeScopes(lists ...[]string) []string {
	var merged []string
	for _, list := range lists {
		for _, s := range list {
			if !slices.Contains(merged, s) {
				merged = append(merged, s)
			}
		}
	}
	return merged
}

// scopeClaim is a scope claim in either shape issuers emit: a
// space-delimited string (RFC 9068, OAuth 2.0) or a JSON array of strings
// (IdentityServer, scp in several issuers).
type scopeClaim []string

// UnmarshalJSON accepts a string, an array of strings, or null; anything
// else makes the token malformed.
func (s *scopeClaim) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case nil:
		*s = nil
	case string:
		*s = strings.Fields(v)
	case []any:
		list := make([]string, 0, len(v))
		for _, item := range v {
			scope, ok := item.(string)
			if !ok {
				return fmt.Errorf("scope array holds a %T, not a string", item)
			}
			if scope != "" {
				list = append(list, scope)
			}
		}
		*s = list
	default:
		return fmt.Errorf("scope is a %T, not a string or an array of strings", v)
	}
	return nil
}
