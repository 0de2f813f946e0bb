package adminapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
	"github.com/gatehouse-gw/gatehouse/internal/clientip"
)

// request is one API request that passed authorization.
type request struct {
	h      *Handler
	w      http.ResponseWriter
	r      *http.Request
	id     string // the client id in the path, if any
	caller authn.Identity
}

// actor is the caller as recorded in the audit log: the token's subject
// and client, and the client address as Caddy determined it (which
// honours the server's trusted_proxies).
func (q *request) actor() keystore.Actor {
	return keystore.Actor{Subject: q.caller.Subject, ClientID: q.caller.ClientID, RemoteAddr: clientip.Of(q.r)}
}

// changeContext is the context for a store mutation: it names the actor.
func (q *request) changeContext() context.Context {
	return keystore.WithActor(q.r.Context(), q.actor())
}

// logChange logs a change that the store committed. Only ids, prefixes and
// the actor are logged, never a key.
func (q *request) logChange(action, clientID string, fields ...zap.Field) {
	a := q.actor()
	q.h.logger.Info("client "+action,
		append([]zap.Field{
			zap.String("client_id", clientID),
			zap.String("actor_subject", a.Subject),
			zap.String("actor_client_id", a.ClientID),
			zap.String("remote_addr", a.RemoteAddr),
		}, fields...)...)
}

// fail answers with a refusal.
func (q *request) fail(f *authn.Failure) {
	writeError(q.w, f)
}

// storeFail answers with the refusal matching a store error.
func (q *request) storeFail(op string, err error) {
	writeError(q.w, q.h.storeFailure(op, err))
}

// respond answers with status and v, one of the views, as JSON (which
// cannot fail to encode: strings, times and maps of strings).
func (q *request) respond(status int, v any) {
	body, _ := json.Marshal(v)
	h := q.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	q.w.WriteHeader(status)
	_, _ = q.w.Write(body)
}

// clientURL is the path of the client with id.
func (q *request) clientURL(id string) string {
	return q.h.BasePath + "/clients/" + id
}
