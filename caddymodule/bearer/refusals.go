package bearer

import "github.com/gatehouse-gw/gatehouse/caddymodule/authn"

// Reasons are the stable labels (authn.Failure.Reason) of the bearer track's
// refusals, for logs and metrics. Descriptions shown to clients are fixed
// strings that never repeat any part of the token.
const (
	ReasonRepeatedAuthorization = "repeated_authorization"
	ReasonEmptyBearer           = "empty_bearer"
	ReasonBearerSyntax          = "bearer_syntax"
	ReasonTooLarge              = "token_too_large"
	ReasonMalformed             = "malformed"
	ReasonCritHeader            = "crit_header"
	ReasonTyp                   = "typ_not_at_jwt"
	ReasonAlgorithm             = "alg_not_accepted"
	ReasonAlgorithmKeyMismatch  = "alg_key_mismatch"
	ReasonNoKeyID               = "no_kid"
	ReasonUnknownKeyID          = "unknown_kid"
	ReasonSignature             = "bad_signature"
	ReasonIssuer                = "issuer_not_accepted"
	ReasonNoExpiry              = "no_exp"
	ReasonExpired               = "expired"
	ReasonNotYetValid           = "not_yet_valid"
	ReasonIssuedInFuture        = "issued_in_future"
	ReasonAudience              = "audience_not_accepted"
	ReasonKeysUnavailable       = "issuer_keys_unavailable"
)

// Each refusal is built afresh so no caller can alter another's Failure.

func refuseRepeatedAuthorization() *authn.Failure {
	return authn.InvalidRequest(ReasonRepeatedAuthorization, "more than one Authorization header")
}

func refuseEmptyBearer() *authn.Failure {
	return authn.InvalidRequest(ReasonEmptyBearer, "bearer token is empty")
}

func refuseBearerSyntax() *authn.Failure {
	return authn.InvalidRequest(ReasonBearerSyntax, "bearer token has characters RFC 6750 does not allow")
}

func refuseTooLarge() *authn.Failure {
	return authn.InvalidToken(ReasonTooLarge, "token too large")
}

func refuseMalformed() *authn.Failure {
	return authn.InvalidToken(ReasonMalformed, "token malformed")
}

func refuseCritHeader() *authn.Failure {
	return authn.InvalidToken(ReasonCritHeader, "token malformed")
}

func refuseTyp() *authn.Failure {
	return authn.InvalidToken(ReasonTyp, "typ must be at+jwt")
}

func refuseAlgorithm(reason string) *authn.Failure {
	return authn.InvalidToken(reason, "token algorithm not accepted")
}

func refuseKey(reason string) *authn.Failure {
	return authn.InvalidToken(reason, "signing key unknown")
}

func refuseSignature() *authn.Failure {
	return authn.InvalidToken(ReasonSignature, "token signature invalid")
}

func refuseIssuer() *authn.Failure {
	return authn.InvalidToken(ReasonIssuer, "token issuer not accepted")
}

func refuseNoExpiry() *authn.Failure {
	return authn.InvalidToken(ReasonNoExpiry, "token has no expiry")
}

func refuseExpired() *authn.Failure {
	return authn.InvalidToken(ReasonExpired, "token expired")
}

func refuseNotYetValid(reason string) *authn.Failure {
	return authn.InvalidToken(reason, "token not yet valid")
}

func refuseAudience() *authn.Failure {
	return authn.InvalidToken(ReasonAudience, "token audience not accepted")
}

// refuseKeysUnavailable answers while the issuer's keys have never been
// fetched. It is a 503 (temporarily_unavailable), not a 401: the token may
// well be valid, and the client should retry (the policy handler adds
// Retry-After).
func refuseKeysUnavailable() *authn.Failure {
	return authn.Unavailable(ReasonKeysUnavailable, "issuer signing keys not available yet; retry later")
}
