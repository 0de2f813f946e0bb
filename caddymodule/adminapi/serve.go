package adminapi

import (
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

// serve answers a request addressed to the API. The checks run from the
// cheapest and least revealing to the most specific: who is calling, what
// the path allows, whether the caller's scopes allow it; only then is the
// request's input read.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, rt route) {
	w.Header().Set("Cache-Control", "no-store")
	id, ok := authn.IdentityFrom(r.Context())
	if !ok {
		// Only a route without the gatehouse policy handler in front gets
		// here: fail closed, and tell the operator.
		h.logger.Error("request reached the admin API without a verified identity; put the gatehouse policy handler in front of gatehouse_admin_api",
			zap.String("path", r.URL.Path))
		authn.WriteRefusal(w, authn.MissingCredential("a bearer token is required"),
			authn.Challenge("Bearer", h.Realm, nil, ""))
		return
	}
	if rt.resource == resourceUnknown {
		writeError(w, errNotFound("no such resource"))
		return
	}
	if !allows(rt.resource, r.Method) {
		w.Header().Set("Allow", strings.Join(methods[rt.resource], ", "))
		writeError(w, &authn.Failure{Status: http.StatusMethodNotAllowed, Code: codeMethodNotAllowed, Reason: "method_not_allowed",
			Description: r.Method + " is not allowed here"})
		return
	}
	scope := h.WriteScope
	if r.Method == http.MethodGet {
		scope = h.ReadScope
	}
	if !id.HasScope(scope) {
		f := authn.InsufficientScope("this request needs the scope " + scope)
		authn.WriteRefusal(w, f, authn.Challenge("Bearer", h.Realm, f, scope))
		return
	}

	req := &request{h: h, w: w, r: r, id: rt.id, caller: id}
	switch rt.resource {
	case resourceClients:
		if r.Method == http.MethodPost {
			req.create()
		} else {
			req.list()
		}
	case resourceClient:
		switch r.Method {
		case http.MethodGet:
			req.get()
		case http.MethodPatch:
			req.update()
		default:
			req.delete()
		}
	case resourceRotate:
		req.rotate()
	case resourceDisable:
		req.setStatus(keystore.StatusDisabled)
	case resourceEnable:
		req.setStatus(keystore.StatusActive)
	case resourceAudit:
		req.audit()
	}
}
