package authserver

import (
	"net/http"
	"time"
)

// Cookies of the login flow. The browser cookie binds an authorization
// request to the browser that started it and keys the CSRF tokens of its
// forms; the session cookie keeps a user logged in. Only hashes of both
// are stored.
const (
	cookieBrowser = "gatehouse_browser"
	cookieSession = "gatehouse_session"
)

// cookie builds a first-party cookie; maxAge 0 makes it last for the
// browser session, a negative maxAge deletes it.
func (s *Server) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   s.secureCookies,
		// Lax: the cookies ride along the top-level navigation from the
		// client to /connect/authorize, but not cross-site subrequests.
		SameSite: http.SameSiteLaxMode,
	}
	switch {
	case maxAge > 0:
		c.MaxAge = int(maxAge.Seconds())
	case maxAge < 0:
		c.MaxAge = -1
	}
	return c
}

// cookieValue reads a cookie from request headers.
func cookieValue(h http.Header, name string) string {
	c, err := (&http.Request{Header: h}).Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// csrfToken is the hidden field of a form of the authorization request
// arID shown to the browser holding the browser cookie: an HMAC over
// both, so a page from another site cannot produce it.
func (s *Server) csrfToken(browser, arID, form string) string {
	return mac(s.csrfKey, "csrf", browser, arID, form)
}
