package bearer

import (
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
)

// Verify checks a bearer token and returns the identity it carries.
//
// A token is refused as too large before anything else. A token verified
// before is answered from the decision cache without a signature check, as
// long as it has not expired and the key that signed it is still in its
// issuer's set. Otherwise its unverified iss must name a trusted issuer,
// which chooses the keys it is checked with; then its algorithm must be on
// the allow-list, its kid must name a signing key of that issuer whose
// type fits the algorithm, its signature must verify, iss must equal the
// issuer, exp must be present and not passed, nbf and iat must not be in
// the future (all three with the leeway), aud must name one of the
// audiences when they are configured, and typ must be at+jwt when that is
// required.
//
// Every refusal is an *authn.Failure. Until an issuer's keys have been
// fetched once, every token of that issuer not already cached is refused
// with a 503 temporarily_unavailable Failure.
func (p *Provider) Verify(ctx context.Context, token string) (authn.Identity, error) {
	if len(token) > p.maxTokenBytes {
		return authn.Identity{}, refuseTooLarge()
	}
	now := time.Now()
	digest := tokenDigest(token)
	if id, ok := p.cache.lookup(&digest, now); ok {
		return id, nil
	}
	issuer, fail := p.issuerOf(token)
	if fail != nil {
		return authn.Identity{}, fail
	}
	lookup, ok := issuer.keys.held()
	if !ok {
		return authn.Identity{}, refuseKeysUnavailable()
	}
	resolver := keyResolver{ctx: ctx, provider: p, keys: issuer.keys, lookup: lookup}
	var claims accessClaims
	parsed, err := issuer.parser.ParseWithClaims(token, &claims, resolver.resolve)
	if err != nil {
		return authn.Identity{}, p.refusal(err, parsed, &claims)
	}
	id := claims.identity(resolver.kid)
	p.cache.store(&digest, id, issuer.keys, resolver.used, now)
	return id, nil
}

// tokenDigest is the SHA-256 of token, hashed in place: converting a
// token of several hundred bytes to []byte would copy it on every request,
// and Sum256 only reads its input.
func tokenDigest(token string) [sha256.Size]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
}

// keyResolver is the jwt.Keyfunc of one verification. The parser calls it
// after the algorithm passed the allow-list and before the signature is
// checked; it hands out keys of the token's issuer only, and records which
// key it handed out, for the cache.
type keyResolver struct {
	ctx      context.Context
	provider *Provider
	keys     *issuerKeys
	lookup   *keyLookup

	kid  string
	used *heldKey
}

func (r *keyResolver) resolve(t *jwt.Token) (any, error) {
	// RFC 7515 section 4.1.11: a token with critical extensions this
	// verifier does not know must be refused, and it knows none.
	if _, ok := t.Header["crit"]; ok {
		return nil, refuseCritHeader()
	}
	if r.provider.RequireATJWT && !isATJWT(t.Header["typ"]) {
		return nil, refuseTyp()
	}
	// Tokens must name their key: which key verified a token is what lets
	// the cache drop decisions when that key leaves the issuer's set.
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, refuseKey(ReasonNoKeyID)
	}
	keys := r.keys
	held := keys.snapshot.Load().find(kid)
	if held == nil {
		keys.refreshUnknownKID(r.ctx, r.lookup, kid)
		if held = keys.snapshot.Load().find(kid); held == nil {
			return nil, refuseKey(ReasonUnknownKeyID)
		}
	}
	key, err := r.lookup.KeyfuncCtx(r.ctx)(t)
	switch {
	case err != nil && keys.snapshot.Load().find(kid) == nil:
		return nil, refuseKey(ReasonUnknownKeyID) // removed since the first read
	case err != nil:
		// keyfunc refuses a held key whose JWK names another algorithm.
		return nil, refuseAlgorithm(ReasonAlgorithmKeyMismatch)
	case !held.public.Equal(key):
		return nil, refuseKey(ReasonUnknownKeyID) // replaced since the first read
	case !keyFitsAlgorithm(key, t.Method.Alg()):
		return nil, refuseAlgorithm(ReasonAlgorithmKeyMismatch)
	}
	r.kid, r.used = kid, held
	return key, nil
}

// isATJWT reports whether a typ header value marks an RFC 9068 access
// token. Media types are case-insensitive and may omit "application/".
func isATJWT(typ any) bool {
	s, _ := typ.(string)
	return strings.EqualFold(s, "at+jwt") || strings.EqualFold(s, "application/at+jwt")
}

// refusal names what is wrong with a token the parser refused. The parser
// checks in order: syntax, algorithm, key (the resolver's own refusals),
// signature, then all claims at once; of several failed claims the first
// below is reported.
func (p *Provider) refusal(err error, parsed *jwt.Token, c *accessClaims) *authn.Failure {
	var f *authn.Failure
	switch {
	case errors.As(err, &f):
		return f
	case errors.Is(err, jwt.ErrTokenMalformed):
		return refuseMalformed()
	case parsed == nil || parsed.Method == nil || !slices.Contains(p.Algorithms, parsed.Method.Alg()):
		return refuseAlgorithm(ReasonAlgorithm)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return refuseSignature()
	case errors.Is(err, jwt.ErrTokenInvalidIssuer) || c.Issuer == "":
		return refuseIssuer()
	case c.ExpiresAt == nil:
		return refuseNoExpiry()
	case errors.Is(err, jwt.ErrTokenExpired):
		return refuseExpired()
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return refuseNotYetValid(ReasonNotYetValid)
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return refuseNotYetValid(ReasonIssuedInFuture)
	case errors.Is(err, jwt.ErrTokenInvalidAudience), errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return refuseAudience()
	default:
		return refuseMalformed()
	}
}
