// Package authn is the vocabulary shared by Gatehouse's authentication
// tracks and the policy handler that runs them.
//
// Each track (bearer JWT, API key) is a Caddy module in the
// http.authentication.providers namespace that implements Verifier. The
// gatehouse policy handler (package policy) asks every track it accepts
// for a credential, verifies the one it finds, checks scopes and hands an
// Identity to the upstream. Because every track also implements
// caddyauth.Authenticator (see Authenticate), the same modules work inside
// Caddy's stock authentication handler.
package authn

import (
	"context"
	"net/http"
	"time"
)

// Track names an authentication track.
type Track string

// The tracks Gatehouse enforces at the edge.
const (
	TrackBearer Track = "bearer"
	TrackAPIKey Track = "api_key"
)

// Identity is what a track learned from a verified credential. It is
// immutable once returned: verifiers may hand out the same cached value to
// many requests at once.
type Identity struct {
	// Track is the track that verified the credential.
	Track Track
	// Subject is the principal: the JWT `sub`, or the API key's client id.
	Subject string
	// ClientID is the OAuth client (`client_id` claim) or the API key's client id.
	ClientID string
	// Issuer is the token's `iss` on the bearer track, which can trust
	// several issuers; empty on the API-key track.
	Issuer string
	// Scopes granted to the credential.
	Scopes []string
	// KeyID names the key behind the credential without revealing it: the
	// JWT signing key's `kid`, or the API key's display prefix.
	KeyID string
	// ExpiresAt is when the credential stops being valid; zero means never.
	ExpiresAt time.Time
}

// HasScope reports whether the identity was granted scope.
func (id Identity) HasScope(scope string) bool {
	for _, s := range id.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// Verifier is implemented by each track's provider module.
type Verifier interface {
	// Track names the track this verifier enforces.
	Track() Track
	// Scheme is the HTTP authentication scheme used in this track's
	// WWW-Authenticate challenge, e.g. "Bearer".
	Scheme() string
	// CredentialHeader is the request header that carries the credential.
	CredentialHeader() string
	// Credential extracts this track's credential from r. It reports
	// present=false when r carries none, and a *Failure when the request
	// carries one that is malformed at the HTTP level (RFC 6750
	// invalid_request: repeated header, empty value).
	Credential(r *http.Request) (credential string, present bool, fail *Failure)
	// Verify checks a credential. A refused credential is reported as a
	// *Failure; any other error means the track could not decide.
	Verify(ctx context.Context, credential string) (Identity, error)
}
