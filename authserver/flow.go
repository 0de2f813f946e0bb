package authserver

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// The login flow: /connect/authorize stores the request and sends the
// browser to the login page; login attaches a user, consent records the
// user's grant, and then the browser returns to the client with a code.
// Each step skips itself when it has nothing to ask (a live session, a
// remembered consent); with prompt=none a step that would have to ask
// returns an error to the client instead.

// loadFlow reads the authorization request a login or consent page is
// for and checks that it is still open and belongs to this browser.
func (s *Server) loadFlow(w http.ResponseWriter, r *http.Request, id string) (store.AuthRequest, string, bool) {
	ar, err := s.st.GetAuthRequest(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && !s.now().Before(ar.ExpiresAt) {
		s.errorPage(w, http.StatusBadRequest, "This sign-in request has expired or does not exist.")
		return ar, "", false
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "authserver: reading authorization request", "error", err)
		s.errorPage(w, http.StatusInternalServerError, "Sign-in is unavailable right now. Try again later.")
		return ar, "", false
	}
	browser := cookieValue(r.Header, cookieBrowser)
	if browser == "" || store.Hash(browser) != ar.BrowserBinding {
		s.errorPage(w, http.StatusBadRequest, "This sign-in request was started in another browser.")
		return ar, "", false
	}
	if ar.CodeHash != "" {
		s.errorPage(w, http.StatusBadRequest, "This sign-in request is already complete.")
		return ar, "", false
	}
	return ar, browser, true
}

// checkCSRF verifies a form's CSRF token.
func (s *Server) checkCSRF(w http.ResponseWriter, r *http.Request, browser, arID, form string) bool {
	got := r.PostForm.Get("csrf_token")
	if got == "" || !secretEqual(got, s.csrfToken(browser, arID, form)) {
		s.errorPage(w, http.StatusForbidden, "The form expired or was not sent from this site. Go back, reload the page and try again.")
		return false
	}
	return true
}

// redirectSeeOther moves the browser on after a form post or page view.
func redirectSeeOther(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// failToClient ends the flow by returning an error to the client.
func (s *Server) failToClient(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, e *oidc.Error) {
	if _, err := s.st.UpdateAuthRequest(r.Context(), ar.ID, func(a *store.AuthRequest) error {
		a.ExpiresAt = s.now()
		return nil
	}); err != nil {
		s.log.ErrorContext(r.Context(), "authserver: closing authorization request", "error", err)
	}
	params := url.Values{"error": {string(e.ErrorType)}}
	if e.Description != "" {
		params.Set("error_description", e.Description)
	}
	redirectSeeOther(w, r, s.redirectToClient(ar, params))
}

// currentSession returns the browser's live session, if any.
func (s *Server) currentSession(ctx context.Context, r *http.Request) (store.Session, bool) {
	cookie := cookieValue(r.Header, cookieSession)
	if cookie == "" {
		return store.Session{}, false
	}
	sess, err := s.st.GetSession(ctx, store.Hash(cookie))
	if err != nil || !s.now().Before(sess.ExpiresAt) {
		return store.Session{}, false
	}
	return sess, true
}

// sessionSatisfies reports whether a session may stand in for a login:
// not when the client asked for a fresh one (prompt=login) or the login
// is older than max_age.
func (s *Server) sessionSatisfies(ar store.AuthRequest, sess store.Session) bool {
	if slices.Contains(ar.Prompt, oidc.PromptLogin) {
		return false
	}
	if ar.MaxAge != nil && s.now().Sub(sess.AuthTime) > time.Duration(*ar.MaxAge)*time.Second {
		return false
	}
	return true
}

// attachUser records who logged in for the authorization request.
func (s *Server) attachUser(ctx context.Context, ar store.AuthRequest, sess store.Session) (store.AuthRequest, error) {
	return s.st.UpdateAuthRequest(ctx, ar.ID, func(a *store.AuthRequest) error {
		a.UserID, a.AuthTime, a.SessionID = sess.UserID, sess.AuthTime, sess.ID
		return nil
	})
}

// toConsent is the step after login: ask for consent unless the user
// already granted every requested scope to this client.
func (s *Server) toConsent(w http.ResponseWriter, r *http.Request, ar store.AuthRequest) {
	consent, err := s.st.GetConsent(r.Context(), ar.UserID, ar.ClientID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.ErrorContext(r.Context(), "authserver: reading consent", "error", err)
		s.errorPage(w, http.StatusInternalServerError, "Sign-in is unavailable right now. Try again later.")
		return
	}
	covered := err == nil && !slices.Contains(ar.Prompt, oidc.PromptConsent)
	for _, scope := range ar.Scopes {
		covered = covered && slices.Contains(consent.Scopes, scope)
	}
	switch {
	case covered:
		s.consentDecided(r.Context(), outcomeRemembered, ar.ClientID, ar.UserID, ar.Scopes)
		s.complete(w, r, ar)
	case slices.Contains(ar.Prompt, oidc.PromptNone):
		s.failToClient(w, r, ar, oidc.ErrInteractionRequired().WithDescription("consent required"))
	default:
		redirectSeeOther(w, r, PathConsent+"?id="+url.QueryEscape(ar.ID))
	}
}

// complete issues the code and returns the browser to the client.
func (s *Server) complete(w http.ResponseWriter, r *http.Request, ar store.AuthRequest) {
	c, err := s.st.GetClient(r.Context(), ar.ClientID)
	if err != nil {
		s.errorPage(w, http.StatusBadRequest, "The application is no longer registered.")
		return
	}
	code := randomToken()
	lifetime := (&client{Client: c, cfg: &s.cfg}).codeLifetime()
	_, err = s.st.UpdateAuthRequest(r.Context(), ar.ID, func(a *store.AuthRequest) error {
		if a.CodeHash != "" {
			return store.ErrConflict
		}
		a.CodeHash, a.CodeExpiresAt = store.Hash(code), s.now().Add(lifetime)
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		s.errorPage(w, http.StatusBadRequest, "This sign-in request is already complete.")
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "authserver: issuing code", "error", err)
		s.errorPage(w, http.StatusInternalServerError, "Sign-in is unavailable right now. Try again later.")
		return
	}
	redirectSeeOther(w, r, s.redirectToClient(ar, url.Values{"code": {code}}))
}
