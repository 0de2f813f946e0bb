package authserver

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// The collectors live for the whole process, shared by every Server in
// it, so counts carry over `caddy reload`. Every label has a fixed set of
// values: nothing a client sends becomes a label as it is.
var (
	tokensIssued = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "gatehouse",
		Subsystem: "authserver",
		Name:      "tokens_issued_total",
		Help:      "Successful token responses, by grant type (client_credentials, authorization_code, refresh_token).",
	}, []string{"grant_type"})

	tokenErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "gatehouse",
		Subsystem: "authserver",
		Name:      "token_errors_total",
		Help:      "Error responses of the token endpoint, by grant type (other when missing or unsupported) and RFC 6749 error code (other when not one of them).",
	}, []string{"grant_type", "error"})

	logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "gatehouse",
		Subsystem: "authserver",
		Name:      "logins_total",
		Help:      "Login form submissions, by outcome: success, failure (unknown user or wrong password), throttled (refused by the login throttle without checking the password).",
	}, []string{"outcome"})

	consents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "gatehouse",
		Subsystem: "authserver",
		Name:      "consents_total",
		Help:      "Consent decisions, by outcome: granted and denied on the consent page, remembered when an earlier consent covered the request.",
	}, []string{"outcome"})

	refreshTokenReuses = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "gatehouse",
		Subsystem: "authserver",
		Name:      "refresh_token_reuses_total",
		Help:      "Rotated-out refresh tokens presented again; each revoked its token family.",
	})

	codeReplays = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "gatehouse",
		Subsystem: "authserver",
		Name:      "code_replays_total",
		Help:      "Authorization codes presented after their first exchange; each revoked the tokens of that exchange.",
	})

	keyRotations = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "gatehouse",
		Subsystem: "authserver",
		Name:      "key_rotations_total",
		Help:      "Signing keys generated and published by this process's key schedule: the first key of an empty store, then one per rotation.",
	})
)

// Label values.
const (
	outcomeSuccess    = "success"
	outcomeFailure    = "failure"
	outcomeThrottled  = "throttled"
	outcomeGranted    = "granted"
	outcomeDenied     = "denied"
	outcomeRemembered = "remembered"
	labelOther        = "other"
)

func init() {
	// Every series of a fixed label set exists from the start at zero,
	// so that rates and alerts work before the first event.
	for _, g := range []string{store.GrantClientCredentials, store.GrantAuthorizationCode, store.GrantRefreshToken} {
		tokensIssued.WithLabelValues(g)
	}
	for _, o := range []string{outcomeSuccess, outcomeFailure, outcomeThrottled} {
		logins.WithLabelValues(o)
	}
	for _, o := range []string{outcomeGranted, outcomeDenied, outcomeRemembered} {
		consents.WithLabelValues(o)
	}
}

// Collectors returns the authserver's Prometheus collectors, for a host
// to register in its registry (the gateway build registers them in
// Caddy's). They are the same collectors on every call.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{tokensIssued, tokenErrors, logins, consents, refreshTokenReuses, codeReplays, keyRotations}
}

// grantLabel bounds a grant_type parameter to the grants this server has.
func grantLabel(grantType string) string {
	switch grantType {
	case store.GrantClientCredentials, store.GrantAuthorizationCode, store.GrantRefreshToken:
		return grantType
	}
	return labelOther
}

// errorLabel bounds an error code to those RFC 6749 section 5.2 (and
// server_error) define.
func errorLabel(code string) string {
	switch code {
	case string(oidc.InvalidRequest), string(oidc.InvalidClient), string(oidc.InvalidGrant), string(oidc.UnauthorizedClient),
		string(oidc.UnsupportedGrantType), string(oidc.InvalidScope), string(oidc.ServerError):
		return code
	}
	return labelOther
}
