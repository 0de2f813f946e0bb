package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// EndSession implements RP-initiated logout: the browser's session ends
// and it goes to the client's registered post-logout URI (matched
// exactly, with state) or to the signed-out page. The client is named by
// client_id or by the audience of id_token_hint, which may have expired.
func (p *provider) EndSession(ctx context.Context, r *op.Request[oidc.EndSessionRequest]) (*op.Redirect, error) {
	req := r.Data
	clientID := req.ClientID
	if req.IdTokenHint != "" {
		payload, err := p.s.verifySigned(req.IdTokenHint, "JWT")
		var hint struct {
			Audience audience `json:"aud"`
		}
		if err != nil || json.Unmarshal(payload, &hint) != nil || len(hint.Audience) != 1 ||
			clientID != "" && clientID != hint.Audience[0] {
			return nil, oidc.ErrInvalidRequest().WithDescription("id_token_hint invalid")
		}
		clientID = hint.Audience[0]
	}
	target := PathLoggedOut
	if req.PostLogoutRedirectURI != "" {
		c, err := p.s.st.GetClient(ctx, clientID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, oidc.ErrInvalidRequest().WithDescription("post_logout_redirect_uri needs a known client_id or id_token_hint")
		}
		if err != nil {
			return nil, p.internalError(ctx, "reading client", err)
		}
		if !slices.Contains(c.PostLogoutRedirectURIs, req.PostLogoutRedirectURI) {
			return nil, oidc.ErrInvalidRequest().WithDescription("post_logout_redirect_uri not registered for this client")
		}
		u, err := url.Parse(req.PostLogoutRedirectURI)
		if err != nil {
			return nil, oidc.ErrInvalidRequest().WithDescription("post_logout_redirect_uri invalid")
		}
		if req.State != "" {
			q := u.Query()
			q.Set("state", req.State)
			u.RawQuery = q.Encode()
		}
		target = u.String()
	}
	if cookie := cookieValue(r.Header, cookieSession); cookie != "" {
		if err := p.s.st.DeleteSession(ctx, store.Hash(cookie)); err != nil {
			return nil, p.internalError(ctx, "ending session", err)
		}
	}
	redirect := op.NewRedirect(target)
	redirect.Header.Add("Set-Cookie", p.s.cookie(cookieSession, "", -1).String())
	return redirect, nil
}
