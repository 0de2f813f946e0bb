package authserver

import (
	"context"
	"strings"
	"time"
)

// Security events: each one is counted in a metric (metrics.go) and
// logged, never with a password, secret, code or token.
//
// Usernames are not logged as typed: people type their password into the
// username field often enough that a log of usernames collects passwords.
// A login event names the account by a keyed hash of the lower-cased
// username instead, the same for every attempt on one store, so repeated
// attempts on one account can be followed; when the account exists, the
// user id (the tokens' sub) is logged as well.

const logKeyName = "log-account-hmac"

// accountTag is the logged stand-in for a username.
func (s *Server) accountTag(username string) string {
	return mac(s.logKey, "account", strings.ToLower(username))[:16]
}

// Why a login failed, as logged.
const (
	loginUnknownUser   = "unknown_user"
	loginWrongPassword = "wrong_password"
	loginMalformed     = "malformed"
)

func (s *Server) loginFailed(ctx context.Context, clientID, username, userID, addr, reason string) {
	logins.WithLabelValues(outcomeFailure).Inc()
	attrs := []any{"account", s.accountTag(username), "remote_ip", addr, "client_id", clientID, "reason", reason}
	if userID != "" {
		attrs = append(attrs, "user_id", userID)
	}
	s.log.InfoContext(ctx, "authserver: login failed", attrs...)
}

// loginLocked reports a failure that made a limit refuse further logins.
func (s *Server) loginLocked(ctx context.Context, username, addr, limit string) {
	attrs := []any{"limit", limit, "remote_ip", addr, "window", s.cfg.LoginThrottle.Window.String()}
	if limit == limitAccount {
		attrs = append(attrs, "account", s.accountTag(username), "failures", s.cfg.LoginThrottle.PerAccount)
	} else {
		attrs = append(attrs, "failures", s.cfg.LoginThrottle.PerAddress)
	}
	s.log.WarnContext(ctx, "authserver: logins locked", attrs...)
}

func (s *Server) loginThrottled(ctx context.Context, clientID, username, addr, limit string) {
	logins.WithLabelValues(outcomeThrottled).Inc()
	s.log.InfoContext(ctx, "authserver: login throttled", "account", s.accountTag(username), "remote_ip", addr,
		"client_id", clientID, "limit", limit)
}

func (s *Server) loginSucceeded(ctx context.Context, clientID, userID, addr string) {
	logins.WithLabelValues(outcomeSuccess).Inc()
	s.log.InfoContext(ctx, "authserver: login succeeded", "user_id", userID, "remote_ip", addr, "client_id", clientID)
}

func (s *Server) consentDecided(ctx context.Context, outcome, clientID, userID string, scopes []string) {
	consents.WithLabelValues(outcome).Inc()
	s.log.InfoContext(ctx, "authserver: consent", "outcome", outcome, "user_id", userID, "client_id", clientID,
		"scope", strings.Join(scopes, " "))
}

// tokenIssued is logged at debug level: client_credentials alone can
// issue hundreds a second.
func (s *Server) tokenIssued(ctx context.Context, grantType, clientID, subject string, scopes []string) {
	tokensIssued.WithLabelValues(grantType).Inc()
	s.log.DebugContext(ctx, "authserver: token issued", "grant_type", grantType, "client_id", clientID,
		"sub", subject, "scope", strings.Join(scopes, " "))
}

func (s *Server) refreshTokenReused(ctx context.Context, clientID, userID, familyID string) {
	refreshTokenReuses.Inc()
	s.log.WarnContext(ctx, "authserver: refresh token reused; family revoked", "client_id", clientID,
		"user", userID, "family_id", familyID)
}

// codeReplayed: clientID presented a code issued to issuedTo (the same
// client unless the code leaked to another).
func (s *Server) codeReplayed(ctx context.Context, clientID, issuedTo string) {
	codeReplays.Inc()
	s.log.WarnContext(ctx, "authserver: authorization code replayed; tokens of its first exchange revoked",
		"client_id", clientID, "issued_to", issuedTo)
}

// keyPublished is the key manager's report of a key it generated.
func (s *Server) keyPublished(kid string, activatesAt time.Time) {
	keyRotations.Inc()
	attrs := []any{"kid", kid, "signs_from", activatesAt.UTC().Format(time.RFC3339)}
	if current, err := s.keys.Signer(); err == nil {
		attrs = append(attrs, "current_kid", current.ID)
	}
	s.log.Info("authserver: signing key published", attrs...)
}

// noteSigner logs the signing key taking over from another, once per
// change seen by this server's maintenance.
func (s *Server) noteSigner() {
	key, err := s.keys.Signer()
	if err != nil {
		return
	}
	s.signerMu.Lock()
	previous := s.signerKID
	s.signerKID = key.ID
	s.signerMu.Unlock()
	if previous != "" && previous != key.ID {
		s.log.Info("authserver: signing key now signs", "kid", key.ID, "previous_kid", previous)
	}
}
