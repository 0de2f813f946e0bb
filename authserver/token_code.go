package authserver

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// errBadCode is the one answer for a code that is unknown, expired,
// replayed, another client's or sent with another redirect URI.
func errBadCode() error {
	return oidc.ErrInvalidGrant().WithDescription("authorization code invalid, expired, already used or issued to another client")
}

// CodeExchange redeems an authorization code (with its PKCE verifier)
// for an access token, an ID token when openid was granted, and a
// refresh token when offline_access was granted and the client may
// refresh. A code presented twice is refused and revokes what its first
// exchange issued.
func (p *provider) CodeExchange(ctx context.Context, r *op.ClientRequest[oidc.AccessTokenRequest]) (*op.Response, error) {
	c := r.Client.(*client)
	codeHash := store.Hash(r.Data.Code)
	ar, err := p.s.st.GetAuthRequestByCode(ctx, codeHash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBadCode()
	}
	if err != nil {
		return nil, p.internalError(ctx, "reading authorization code", err)
	}
	now := p.s.now()
	if !ar.RedeemedAt.IsZero() {
		// A replay: have the store revoke what the first exchange issued.
		if err := p.s.st.RedeemCode(ctx, codeHash, now, store.Issued{}, nil); !errors.Is(err, store.ErrReplayed) {
			p.s.log.ErrorContext(ctx, "authserver: revoking a replayed code's tokens", "error", err)
		}
		p.s.codeReplayed(ctx, c.ID, ar.ClientID)
		return nil, errBadCode()
	}
	if ar.ClientID != c.ID || !now.Before(ar.CodeExpiresAt) || ar.RedirectURI != r.Data.RedirectURI {
		return nil, errBadCode()
	}
	challenge := &oidc.CodeChallenge{Challenge: ar.CodeChallenge, Method: oidc.CodeChallengeMethod(ar.CodeChallengeMethod)}
	if err := op.AuthorizeCodeChallenge(r.Data.CodeVerifier, challenge); err != nil {
		return nil, err
	}
	user, err := p.s.st.GetUser(ctx, ar.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBadCode()
	}
	if err != nil {
		return nil, p.internalError(ctx, "reading user", err)
	}

	g := grant{client: c, subject: user.ID, scopes: ar.Scopes, authTime: ar.AuthTime, sessionID: sessionClaim(ar.SessionID)}
	resp, issued, refresh, err := p.s.issueUserTokens(g, user, ar.Nonce, "")
	if err != nil {
		return nil, p.internalError(ctx, "issuing tokens", err)
	}
	err = p.s.st.RedeemCode(ctx, codeHash, now, issued, refresh)
	if errors.Is(err, store.ErrReplayed) {
		// Another exchange of the same code won the race.
		p.s.codeReplayed(ctx, c.ID, ar.ClientID)
		return nil, errBadCode()
	}
	if errors.Is(err, store.ErrExpired) || errors.Is(err, store.ErrNotFound) {
		return nil, errBadCode()
	}
	if err != nil {
		return nil, p.internalError(ctx, "redeeming code", err)
	}
	p.s.tokenIssued(ctx, store.GrantAuthorizationCode, c.ID, user.ID, g.scopes)
	return op.NewResponse(resp), nil
}

// issueUserTokens signs the tokens of a user grant and, when the grant
// allows refreshing, prepares the refresh token (the caller stores it;
// a new one starts a family, a rotation joins familyID).
func (s *Server) issueUserTokens(g grant, user store.User, nonce, familyID string) (*tokenResponse, store.Issued, *store.RefreshToken, error) {
	access, ref, err := s.issueAccessToken(g)
	if err != nil {
		return nil, store.Issued{}, nil, err
	}
	resp := &tokenResponse{
		AccessToken: access,
		ExpiresIn:   int64(g.client.accessTokenLifetime().Seconds()),
		TokenType:   oidc.BearerToken,
		Scope:       strings.Join(g.scopes, " "),
	}
	if slices.Contains(g.scopes, oidc.ScopeOpenID) {
		if resp.IDToken, err = s.issueIDToken(g, user, nonce, access); err != nil {
			return nil, store.Issued{}, nil, err
		}
	}
	issued := store.Issued{AccessToken: ref}
	if !slices.Contains(g.scopes, oidc.ScopeOfflineAccess) || !g.client.allows(store.GrantRefreshToken) {
		return resp, issued, nil, nil
	}
	if familyID == "" {
		familyID = randomID()
	}
	token := randomToken()
	now := s.now()
	resp.RefreshToken = token
	issued.RefreshFamily = familyID
	return resp, issued, &store.RefreshToken{
		Hash:      store.Hash(token),
		FamilyID:  familyID,
		ClientID:  g.client.ID,
		UserID:    user.ID,
		Scopes:    g.scopes,
		AuthTime:  g.authTime,
		SessionID: g.sessionID,
		CreatedAt: now,
		ExpiresAt: now.Add(g.client.refreshTokenLifetime()),
	}, nil
}
