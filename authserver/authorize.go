package authserver

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// authorizeGate refuses, with an error page for the person at the
// browser, an authorization request whose client or redirect URI is
// unknown: such a request must never be redirected anywhere (RFC 6749
// section 4.1.2.1). Everything else goes on to op.
func (s *Server) authorizeGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			s.errorPage(w, http.StatusBadRequest, "The sign-in request could not be read.")
			return
		}
		c, err := s.st.GetClient(r.Context(), r.Form.Get("client_id"))
		if errors.Is(err, store.ErrNotFound) {
			s.errorPage(w, http.StatusBadRequest, "The application that sent you here is not registered (unknown client_id).")
			return
		}
		if err != nil {
			s.log.ErrorContext(r.Context(), "authserver: reading client", "error", err)
			s.errorPage(w, http.StatusInternalServerError, "Sign-in is unavailable right now. Try again later.")
			return
		}
		if !slices.Contains(c.RedirectURIs, r.Form.Get("redirect_uri")) {
			s.errorPage(w, http.StatusBadRequest, "The application asked to return to an address it has not registered (redirect_uri mismatch).")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// VerifyAuthRequest finds the client and checks the redirect URI exactly;
// op then checks the rest in an order that keeps failures before this
// point from being redirected.
func (p *provider) VerifyAuthRequest(ctx context.Context, r *op.Request[oidc.AuthRequest]) (*op.ClientRequest[oidc.AuthRequest], error) {
	stored, err := p.s.st.GetClient(ctx, r.Data.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("unknown client")
	}
	if err != nil {
		return nil, p.internalError(ctx, "reading client", err)
	}
	if !slices.Contains(stored.RedirectURIs, r.Data.RedirectURI) {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("redirect_uri not registered for this client")
	}
	return &op.ClientRequest[oidc.AuthRequest]{Request: r, Client: &client{Client: stored, cfg: &p.s.cfg}}, nil
}

// Authorize checks what op leaves to the server (every requested scope
// allowed, PKCE with S256), stores the request and sends the browser to
// the login page. Errors returned here reach the client's redirect URI
// with the state.
func (p *provider) Authorize(ctx context.Context, r *op.ClientRequest[oidc.AuthRequest]) (*op.Redirect, error) {
	c := r.Client.(*client)
	req := r.Data
	if req.RequestParam != "" {
		return nil, oidc.ErrRequestNotSupported()
	}
	if req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery {
		return nil, oidc.ErrInvalidRequest().WithDescription("only response_mode=query is supported")
	}
	// op drops scopes the client may not have; the request as sent is
	// refused instead, so that a client learns of its mistake.
	requested := strings.Fields(r.Form.Get("scope"))
	for _, scope := range requested {
		if !c.IsScopeAllowed(scope) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope not allowed for this client")
		}
	}
	if req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge required: PKCE with S256 is mandatory")
	}
	if req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}

	redirect := op.NewRedirect("")
	browser := cookieValue(r.Header, cookieBrowser)
	if browser == "" {
		browser = randomToken()
		redirect.Header.Add("Set-Cookie", p.s.cookie(cookieBrowser, browser, 0).String())
	}
	now := p.s.now()
	scopes := slices.Clone(requested)
	slices.Sort(scopes)
	ar := store.AuthRequest{
		ID:                  randomID(),
		ClientID:            c.ID,
		RedirectURI:         req.RedirectURI,
		Scopes:              slices.Compact(scopes),
		State:               req.State,
		Nonce:               req.Nonce,
		CodeChallenge:       req.CodeChallenge,
		CodeChallengeMethod: string(req.CodeChallengeMethod),
		Prompt:              req.Prompt,
		MaxAge:              req.MaxAge,
		BrowserBinding:      store.Hash(browser),
		CreatedAt:           now,
		ExpiresAt:           now.Add(p.s.cfg.AuthRequestLifetime),
	}
	if err := p.s.st.CreateAuthRequest(ctx, ar); err != nil {
		return nil, p.internalError(ctx, "storing authorization request", err)
	}
	redirect.URL = PathLogin + "?id=" + url.QueryEscape(ar.ID)
	return redirect, nil
}

// redirectToClient builds the redirect to the client's registered URI
// with params, the state and the issuer (RFC 9207).
func (s *Server) redirectToClient(ar store.AuthRequest, params url.Values) string {
	u, err := url.Parse(ar.RedirectURI)
	if err != nil {
		// Registered redirect URIs were parsed when the client was created.
		return ar.RedirectURI
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if ar.State != "" {
		q.Set("state", ar.State)
	}
	q.Set("iss", s.cfg.Issuer)
	u.RawQuery = q.Encode()
	return u.String()
}
