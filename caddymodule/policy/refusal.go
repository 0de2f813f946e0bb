package policy

import (
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
	"github.com/gatehouse-gw/gatehouse/internal/clientip"
)

// refuse answers a refused request. The challenge names the track whose
// credential failed, or, when none was sent, every accepted track, so that
// the client learns what it may send.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, track *track, f *authn.Failure) error {
	var challenges []string
	if track != nil {
		challenges = []string{authn.Challenge(track.Scheme(), h.Realm, f, "")}
	} else {
		for _, t := range h.tracks {
			// No credential at all: RFC 6750 section 3.1 wants no error code.
			var code *authn.Failure
			if f.Code != authn.CodeUnauthorized {
				code = f
			}
			challenges = append(challenges, authn.Challenge(t.Scheme(), h.Realm, code, ""))
		}
	}
	h.record(r, track, f, "")
	authn.WriteRefusal(w, f, challenges...)
	return nil
}

// refuseScope answers a valid credential that lacks required scopes (403).
func (h *Handler) refuseScope(w http.ResponseWriter, r *http.Request, track *track, id authn.Identity, missing []string) error {
	scope := strings.Join(h.Scopes, " ")
	f := authn.InsufficientScope("the credential lacks the scope " + strings.Join(missing, " ") + " required here")
	h.record(r, track, f, id.ClientID)
	authn.WriteRefusal(w, f, authn.Challenge(track.Scheme(), h.Realm, f, scope))
	return nil
}

// record counts and logs a refusal. Neither the credential nor anything
// derived from it is logged; the client id is, once the credential proved it.
func (h *Handler) record(r *http.Request, track *track, f *authn.Failure, clientID string) {
	name := "none"
	if track != nil {
		name = string(track.Track())
	}
	outcome := outcomeRefused
	if f.Status == http.StatusServiceUnavailable {
		outcome = outcomeUnavailable
	}
	decisions.WithLabelValues(name, outcome, f.Reason).Inc()
	if c := h.logger.Check(zap.InfoLevel, "request refused"); c != nil {
		fields := []zap.Field{
			zap.String("track", name), zap.Int("status", f.Status),
			zap.String("error", f.Code), zap.String("reason", f.Reason),
			zap.String("remote_ip", clientip.Of(r)), zap.String("uri", r.URL.Path),
		}
		if clientID != "" {
			fields = append(fields, zap.String("client_id", clientID))
		}
		c.Write(fields...)
	}
}
