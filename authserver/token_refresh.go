package authserver

import (
	"context"
	"errors"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

func errBadRefreshToken() error {
	return oidc.ErrInvalidGrant().WithDescription("refresh token invalid, expired, revoked or issued to another client")
}

// RefreshToken rotates a refresh token: the presented one is spent and a
// successor issued with new access (and ID) tokens. Presenting a spent
// token again revokes its whole family. The scope may be narrowed, never
// widened.
func (p *provider) RefreshToken(ctx context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*op.Response, error) {
	c := r.Client.(*client)
	hash := store.Hash(r.Data.RefreshToken)
	old, err := p.s.st.GetRefreshToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBadRefreshToken()
	}
	if err != nil {
		return nil, p.internalError(ctx, "reading refresh token", err)
	}
	if old.ClientID != c.ID || old.FamilyRevoked {
		return nil, errBadRefreshToken()
	}
	scopes := old.Scopes
	if len(r.Data.Scopes) > 0 {
		for _, s := range r.Data.Scopes {
			if !slices.Contains(old.Scopes, s) {
				return nil, oidc.ErrInvalidScope().WithDescription("scope exceeds the original grant")
			}
		}
		scopes = r.Data.Scopes
	}
	if !slices.Contains(scopes, oidc.ScopeOfflineAccess) {
		scopes = append(slices.Clone(scopes), oidc.ScopeOfflineAccess)
	}
	user, err := p.s.st.GetUser(ctx, old.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBadRefreshToken()
	}
	if err != nil {
		return nil, p.internalError(ctx, "reading user", err)
	}
	g := grant{client: c, subject: user.ID, scopes: scopes, authTime: old.AuthTime, sessionID: old.SessionID}
	resp, issued, next, err := p.s.issueUserTokens(g, user, "", old.FamilyID)
	if err != nil {
		return nil, p.internalError(ctx, "issuing tokens", err)
	}
	if next == nil {
		// The client lost the refresh grant since: nothing to rotate into.
		return nil, errBadRefreshToken()
	}
	err = p.s.st.RotateRefreshToken(ctx, hash, p.s.now(), *next, issued.AccessToken)
	switch {
	case errors.Is(err, store.ErrReused):
		p.s.refreshTokenReused(ctx, c.ID, user.ID, old.FamilyID)
		return nil, errBadRefreshToken()
	case errors.Is(err, store.ErrRevoked), errors.Is(err, store.ErrExpired), errors.Is(err, store.ErrNotFound):
		return nil, errBadRefreshToken()
	case err != nil:
		return nil, p.internalError(ctx, "rotating refresh token", err)
	}
	p.s.tokenIssued(ctx, store.GrantRefreshToken, c.ID, user.ID, scopes)
	return op.NewResponse(resp), nil
}
