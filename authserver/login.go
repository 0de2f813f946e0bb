package authserver

import (
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// Limits of the login form's fields.
const (
	maxUsernameLength = 256
	maxPasswordLength = 1024
)

// Messages of the login page. A wrong password and an unknown user get
// the same one.
const (
	msgBadCredentials = "Wrong username or password."
	msgThrottled      = "Too many failed sign-in attempts. Wait a few minutes and try again."
)

type loginPage struct {
	ID, CSRF, Client, Username, Error string
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request) {
	ar, browser, ok := s.loadFlow(w, r, r.URL.Query().Get("id"))
	if !ok {
		return
	}
	if ar.UserID != "" {
		s.toConsent(w, r, ar)
		return
	}
	if sess, ok := s.currentSession(r.Context(), r); ok && s.sessionSatisfies(ar, sess) {
		ar, err := s.attachUser(r.Context(), ar, sess)
		if err != nil {
			s.log.ErrorContext(r.Context(), "authserver: attaching session", "error", err)
			s.errorPage(w, http.StatusInternalServerError, "Sign-in is unavailable right now. Try again later.")
			return
		}
		s.toConsent(w, r, ar)
		return
	}
	if slices.Contains(ar.Prompt, oidc.PromptNone) {
		s.failToClient(w, r, ar, oidc.ErrLoginRequired().WithDescription("login required"))
		return
	}
	s.renderLogin(w, r, http.StatusOK, ar, browser, "", "")
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, ar store.AuthRequest, browser, username, message string) {
	s.render(w, status, "login.html", loginPage{
		ID:       ar.ID,
		CSRF:     s.csrfToken(browser, ar.ID, "login"),
		Client:   s.clientName(r, ar.ClientID),
		Username: username,
		Error:    message,
	})
}

func (s *Server) clientName(r *http.Request, id string) string {
	if c, err := s.st.GetClient(r.Context(), id); err == nil && c.Name != "" {
		return c.Name
	}
	return id
}

func (s *Server) submitLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	ar, browser, ok := s.loadFlow(w, r, r.PostForm.Get("id"))
	if !ok || !s.checkCSRF(w, r, browser, ar.ID, "login") {
		return
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	addr := s.clientAddress(r)
	ctx := r.Context()
	if username == "" || len(username) > maxUsernameLength || len(password) > maxPasswordLength {
		s.loginFailed(ctx, ar.ClientID, username, "", addr, loginMalformed)
		s.renderLogin(w, r, http.StatusUnauthorized, ar, browser, "", msgBadCredentials)
		return
	}
	if limit := s.throttle.refusal(username, addr); limit != "" {
		s.loginThrottled(ctx, ar.ClientID, username, addr, limit)
		s.renderLogin(w, r, http.StatusTooManyRequests, ar, browser, username, msgThrottled)
		return
	}
	user, err := s.st.GetUserByUsername(ctx, username)
	var match bool
	failure := loginWrongPassword
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Hash anyway, so an unknown user takes as long as a wrong password.
		_, _ = checkPassword(password, s.dummyPasswordHash)
		failure = loginUnknownUser
	case err != nil:
		s.log.ErrorContext(ctx, "authserver: reading user", "error", err)
		s.errorPage(w, http.StatusInternalServerError, "Sign-in is unavailable right now. Try again later.")
		return
	default:
		match, err = checkPassword(password, user.PasswordHash)
		if err != nil {
			s.log.ErrorContext(ctx, "authserver: checking password", "user", user.ID, "error", err)
		}
	}
	if !match {
		s.loginFailed(ctx, ar.ClientID, username, user.ID, addr, failure)
		for _, limit := range s.throttle.fail(username, addr) {
			s.loginLocked(ctx, username, addr, limit)
		}
		s.renderLogin(w, r, http.StatusUnauthorized, ar, browser, username, msgBadCredentials)
		return
	}
	s.throttle.succeed(username)
	s.loginSucceeded(ctx, ar.ClientID, user.ID, addr)

	cookie := randomToken()
	now := s.now()
	sess := store.Session{ID: store.Hash(cookie), UserID: user.ID, AuthTime: now, ExpiresAt: now.Add(s.cfg.SessionLifetime)}
	if err := s.st.CreateSession(r.Context(), sess); err != nil {
		s.log.ErrorContext(r.Context(), "authserver: creating session", "error", err)
		s.errorPage(w, http.StatusInternalServerError, "Sign-in is unavailable right now. Try again later.")
		return
	}
	http.SetCookie(w, s.cookie(cookieSession, cookie, s.cfg.SessionLifetime))
	ar, err = s.attachUser(r.Context(), ar, sess)
	if err != nil {
		s.log.ErrorContext(r.Context(), "authserver: attaching session", "error", err)
		s.errorPage(w, http.StatusInternalServerError, "Sign-in is unavailable right now. Try again later.")
		return
	}
	s.toConsent(w, r, ar)
}

// peerAddress is the connection's peer, the default client address.
// Forwarded headers are not trusted: behind a proxy every login counts
// against the proxy's address unless the host says otherwise
// (WithClientAddress; the gateway build passes Caddy's client_ip, which
// honours trusted_proxies).
func peerAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
