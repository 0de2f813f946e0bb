package authn

import (
	"context"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// identityVar is the key of the verified identity in Caddy's per-request
// variables.
const identityVar = "gatehouse.identity"

// WithIdentity records the verified identity for the handlers behind the
// policy handler (such as the clients admin API). Inside Caddy it is kept
// in the request's variable table, which needs no new context or request;
// elsewhere (a handler called directly) a context carrying one is returned.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	vars, ok := ctx.Value(caddyhttp.VarsCtxKey).(map[string]any)
	if !ok {
		vars = make(map[string]any)
		ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, vars)
	}
	vars[identityVar] = id
	return ctx
}

// IdentityFrom returns the identity verified for this request, if any.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := caddyhttp.GetVar(ctx, identityVar).(Identity)
	return id, ok
}
