package authn

import "net/http"

// Error codes used in Gatehouse's refusals. The first three are RFC 6750's;
// temporarily_unavailable is borrowed from RFC 6749 section 4.1.2.1 for a
// track that cannot decide yet (for instance, issuer keys not fetched).
const (
	CodeInvalidRequest         = "invalid_request"
	CodeInvalidToken           = "invalid_token"
	CodeInsufficientScope      = "insufficient_scope"
	CodeTemporarilyUnavailable = "temporarily_unavailable"
	// CodeUnauthorized is the body's error code when a request carries no
	// credential at all; RFC 6750 section 3.1 keeps the challenge itself
	// free of an error code in that case.
	CodeUnauthorized = "unauthorized"
)

// Failure is a refusal that is safe to show to the caller. Description is
// written for the client developer and never contains the credential or
// internal detail; Reason is a short stable label for logs and metrics.
type Failure struct {
	// Status is the HTTP status of the refusal.
	Status int
	// Code is the RFC 6750 error code.
	Code string
	// Description is the error_description shown to the client.
	Description string
	// Reason is a stable machine label, e.g. "expired" or "bad_signature".
	Reason string
}

// Error implements error.
func (f *Failure) Error() string { return f.Code + ": " + f.Description }

// InvalidToken is a refused credential (401 invalid_token).
func InvalidToken(reason, description string) *Failure {
	return &Failure{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: description, Reason: reason}
}

// InvalidRequest is a malformed request (400 invalid_request).
func InvalidRequest(reason, description string) *Failure {
	return &Failure{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: description, Reason: reason}
}

// Unavailable means the track cannot decide for now (503); the client
// should retry later.
func Unavailable(reason, description string) *Failure {
	return &Failure{Status: http.StatusServiceUnavailable, Code: CodeTemporarilyUnavailable, Description: description, Reason: reason}
}

// InsufficientScope refuses a valid credential that lacks a scope (403).
func InsufficientScope(description string) *Failure {
	return &Failure{Status: http.StatusForbidden, Code: CodeInsufficientScope, Description: description, Reason: "insufficient_scope"}
}

// MissingCredential is the refusal of a request that carries no credential
// for any accepted track (401, challenge without an error code).
func MissingCredential(description string) *Failure {
	return &Failure{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Description: description, Reason: "no_credential"}
}
