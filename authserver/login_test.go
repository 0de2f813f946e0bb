package authserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-gw/gatehouse/authserver"
)

// loginPage starts an authorization request and returns the login form.
func (e *env) loginPage(b *browser, opts ...oauth2.AuthCodeOption) url.Values {
	e.t.Helper()
	opts = append(opts, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	p := b.get(e.portalConfig().AuthCodeURL("st", opts...))
	return p.fields(e.t)
}

func TestLoginCSRF(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	form := e.loginPage(b)
	form.Set("username", testUser)
	form.Set("password", testPassword)

	missing := url.Values{"id": form["id"], "username": form["username"], "password": form["password"]}
	if p := b.postForm(authserver.PathLogin, missing); p.status != http.StatusForbidden || p.location != nil {
		t.Fatalf("no CSRF token: %d", p.status)
	}
	forged := url.Values{}
	for k, v := range form {
		forged[k] = v
	}
	forged.Set("csrf_token", "forged")
	if p := b.postForm(authserver.PathLogin, forged); p.status != http.StatusForbidden {
		t.Fatalf("forged CSRF token: %d", p.status)
	}
	// The right form from another browser (no binding cookie) is refused.
	if p := e.newBrowser().postForm(authserver.PathLogin, form); p.status != http.StatusBadRequest || p.location != nil {
		t.Fatalf("other browser: %d", p.status)
	}
	// The consent form checks its token as well.
	p := b.postForm(authserver.PathLogin, form)
	consent := p.fields(t)
	consent.Del("csrf_token")
	consent.Set("decision", "allow")
	if p := b.postForm(authserver.PathConsent, consent); p.status != http.StatusForbidden || p.location != nil {
		t.Fatalf("consent without CSRF token: %d", p.status)
	}
}

func TestLoginNoEnumerationAndThrottle(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	try := func(username, password string) page {
		form := e.loginPage(b)
		form.Set("username", username)
		form.Set("password", password)
		return b.postForm(authserver.PathLogin, form)
	}
	unknown := try("mallory", "whatever-password")
	wrong := try(testUser, "wrong-password")
	if unknown.status != http.StatusUnauthorized || wrong.status != unknown.status ||
		!strings.Contains(unknown.body, "Wrong username or password.") || !strings.Contains(wrong.body, "Wrong username or password.") {
		t.Fatalf("unknown user %d, wrong password %d: the answers differ", unknown.status, wrong.status)
	}
	// An unknown user costs a password hash too: without it the answer
	// would come back in well under a tenth of the time.
	timeIt := func(u string) time.Duration {
		start := time.Now()
		try(u, "wrong-password")
		return time.Since(start)
	}
	e.clock.Advance(time.Hour) // fresh throttle windows
	tUnknown, tWrong := timeIt("nobody-at-all"), timeIt(testUser)
	if tUnknown < tWrong/3 {
		t.Fatalf("unknown user answered in %s, wrong password in %s", tUnknown, tWrong)
	}

	e.clock.Advance(time.Hour)
	for range 5 {
		if p := try(testUser, "wrong-password"); p.status != http.StatusUnauthorized {
			t.Fatalf("failure answered %d", p.status)
		}
	}
	// Locked: even the right password is refused until the window passes.
	if p := try(testUser, testPassword); p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "Too many failed sign-in attempts") {
		t.Fatalf("locked account answered %d", p.status)
	}
	e.clock.Advance(15 * time.Minute)
	if p := try(testUser, testPassword); p.location == nil && !strings.Contains(p.body, `value="allow"`) {
		t.Fatalf("after the window: %d %s", p.status, p.body)
	}

	// Per source address: 20 failures over many accounts lock the address.
	e.clock.Advance(time.Hour)
	b = e.newBrowser()
	for i := range 20 {
		try("user"+string(rune('a'+i)), "wrong-password")
	}
	if p := try(testUser, testPassword); p.status != http.StatusTooManyRequests {
		t.Fatalf("locked address answered %d", p.status)
	}
}

func TestConsentRememberedAndSession(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	verifier := oauth2.GenerateVerifier()
	e.codeFor(b, verifier)
	// Same browser, same client, same scopes: no login, no consent.
	p := b.get(e.portalConfig().AuthCodeURL("again", oauth2.S256ChallengeOption(verifier)))
	if p.location == nil || p.location.Query().Get("code") == "" || p.location.Query().Get("state") != "again" {
		t.Fatalf("second authorization: %d %s", p.status, p.body)
	}
	// prompt=consent asks again; prompt=login asks for the password again.
	if p := b.get(e.portalConfig().AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "consent"))); !strings.Contains(p.body, `value="allow"`) {
		t.Fatalf("prompt=consent: %d", p.status)
	}
	if p := b.get(e.portalConfig().AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "login"))); !strings.Contains(p.body, `for="password"`) {
		t.Fatalf("prompt=login: %d", p.status)
	}
	// A new browser must log in; with prompt=none it gets login_required.
	other := e.newBrowser()
	authorizeNone := e.portalConfig().AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none"))
	p = other.get(authorizeNone)
	if p.location == nil || p.location.Query().Get("error") != "login_required" {
		t.Fatalf("prompt=none without session: %d %v", p.status, p.location)
	}
	// Ending the session brings the login page back.
	p = b.get(e.issuer + authserver.PathEndSession + "?client_id=" + appID + "&post_logout_redirect_uri=" + url.QueryEscape("http://localhost:3001/") + "&state=bye")
	if p.location == nil || p.location.String() != "http://localhost:3001/?state=bye" {
		t.Fatalf("end session: %d %v", p.status, p.location)
	}
	p = b.get(authorizeNone)
	if p.location == nil || p.location.Query().Get("error") != "login_required" {
		t.Fatalf("after logout: %d %v", p.status, p.location)
	}
	if p := b.get(e.issuer + authserver.PathEndSession + "?client_id=" + appID + "&post_logout_redirect_uri=" + url.QueryEscape("https://evil.example/")); p.location != nil {
		t.Fatalf("unregistered post-logout URI was redirected to: %v", p.location)
	}
}

func TestConsentDenied(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	form := e.loginPage(b)
	form.Set("username", testUser)
	form.Set("password", testPassword)
	p := b.postForm(authserver.PathLogin, form)
	for _, words := range []string{"Sign you in and know who you are", "Read data through the admin API", "Admin Portal"} {
		if !strings.Contains(p.body, words) {
			t.Fatalf("consent page lacks %q", words)
		}
	}
	consent := p.fields(t)
	consent.Set("decision", "deny")
	p = b.postForm(authserver.PathConsent, consent)
	if p.location == nil || p.location.Query().Get("error") != "access_denied" || p.location.Query().Get("state") != "st" {
		t.Fatalf("deny: %d %v", p.status, p.location)
	}
	// The request is closed: its forms no longer work.
	if p := b.postForm(authserver.PathConsent, consent); p.location != nil || p.status != http.StatusBadRequest {
		t.Fatalf("closed request: %d %v", p.status, p.location)
	}
}

func TestRevocation(t *testing.T) {
	e := newEnv(t)
	verifier := oauth2.GenerateVerifier()
	tok := e.exchange(e.codeFor(e.newBrowser(), verifier), verifier, appRedirect)
	revoke := func(token string) {
		if got := e.post(authserver.PathRevocation, url.Values{"token": {token}, "client_id": {appID}}, "", ""); got.status != 200 {
			t.Fatalf("revocation answered %d %v", got.status, got.raw)
		}
	}
	revoke(tok.Access)
	if e.introspect(tok.Access) {
		t.Fatal("revoked access token introspects active")
	}
	if got := e.post(authserver.PathUserinfo, url.Values{"access_token": {tok.Access}}, "", ""); got.status != 401 ||
		!strings.HasPrefix(got.header.Get("WWW-Authenticate"), "Bearer ") {
		t.Fatalf("userinfo with a revoked token: %d %v", got.status, got.header)
	}
	if !e.introspect(tok.Refresh) {
		t.Fatal("refresh token inactive after revoking only the access token")
	}
	revoke(tok.Refresh)
	if e.introspect(tok.Refresh) {
		t.Fatal("revoked refresh token introspects active")
	}
	revoke("not-a-token")
	// Introspection needs an authenticated confidential client.
	if got := e.post(authserver.PathIntrospect, url.Values{"token": {tok.Access}, "client_id": {appID}}, "", ""); got.status != 401 {
		t.Fatalf("public client introspected: %d", got.status)
	}
	if got := e.post(authserver.PathIntrospect, url.Values{"token": {tok.Access}}, serviceID, "wrong"); got.status != 401 ||
		!strings.HasPrefix(got.header.Get("WWW-Authenticate"), "Basic ") {
		t.Fatalf("bad introspection credentials: %d %v", got.status, got.header)
	}
}
