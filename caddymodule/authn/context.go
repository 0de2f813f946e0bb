package authn

import "context"

type identityKey struct{}

// WithIdentity returns a copy of ctx carrying the verified identity. The
// policy handler calls it once a request passes, so that handlers behind
// it (such as the clients admin API) know who is calling.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the identity verified for this request, if any.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}
