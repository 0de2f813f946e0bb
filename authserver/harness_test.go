package authserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-gw/gatehouse/authserver"
	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// fakeClock is the injected clock; it starts at the real time so that
// libraries checking expiry against their own clocks agree.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Fixture clients and user of every test server.
const (
	serviceID    = "billing-service"
	appID        = "portal"
	otherAppID   = "other-portal"
	webAppID     = "web-app"
	appRedirect  = "http://localhost:3001/api/auth/callback/rsa"
	testUser     = "alice"
	testPassword = "correct horse battery staple"
)

// env is a running authserver over a real bbolt file.
type env struct {
	t             testing.TB
	srv           *authserver.Server
	logs          *logBuffer // everything the server logged, debug level up, as JSON lines
	ts            *httptest.Server
	st            store.Store
	clock         *fakeClock
	issuer        string
	serviceSecret string
	webAppSecret  string
}

func newEnv(t testing.TB, mutate ...func(*authserver.Config)) *env {
	t.Helper()
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "authserver.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ts := httptest.NewUnstartedServer(nil)
	e := &env{t: t, st: st, ts: ts, clock: &fakeClock{t: time.Now()}, issuer: "http://" + ts.Listener.Addr().String(), logs: &logBuffer{}}
	cfg := authserver.Config{Issuer: e.issuer}
	for _, m := range mutate {
		m(&cfg)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", e.logs)
		}
	})
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.srv, err = authserver.New(cfg, st, authserver.WithClock(e.clock.Now), authserver.WithoutBackground(), authserver.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.srv.Close() })
	ts.Config.Handler = e.srv
	ts.Start()
	t.Cleanup(ts.Close)

	ctx := context.Background()
	now := e.clock.Now()
	_, e.serviceSecret = e.mustClient(authserver.ClientSpec{ID: serviceID, GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"admin.read", "admin.write"}}, now)
	e.mustClient(authserver.ClientSpec{ID: appID, Name: "Admin Portal", Public: true,
		GrantTypes:   []string{store.GrantAuthorizationCode, store.GrantRefreshToken},
		Scopes:       []string{"openid", "profile", "email", "offline_access", "admin.read"},
		RedirectURIs: []string{appRedirect}, PostLogoutRedirectURIs: []string{"http://localhost:3001/"}}, now)
	e.mustClient(authserver.ClientSpec{ID: otherAppID, Public: true, GrantTypes: []string{store.GrantAuthorizationCode},
		Scopes: []string{"openid"}, RedirectURIs: []string{"http://localhost:3002/cb"}}, now)
	_, e.webAppSecret = e.mustClient(authserver.ClientSpec{ID: webAppID, GrantTypes: []string{store.GrantAuthorizationCode},
		Scopes: []string{"openid", "profile"}, RedirectURIs: []string{"https://web.example/cb"}}, now)
	if _, err := authserver.CreateUser(ctx, st, authserver.UserSpec{Username: testUser, Password: testPassword,
		Name: "Alice Liddell", GivenName: "Alice", FamilyName: "Liddell", Email: "alice@example.com", EmailVerified: true}, now); err != nil {
		t.Fatal(err)
	}
	return e
}

// logBuffer collects log lines from concurrent handlers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (e *env) mustClient(spec authserver.ClientSpec, now time.Time) (store.Client, string) {
	c, secret, err := authserver.CreateClient(context.Background(), e.st, spec, now)
	if err != nil {
		e.t.Fatal(err)
	}
	return c, secret
}

// oauthJSON is an RFC 6749 JSON answer: a token response or an error.
type oauthJSON struct {
	status  int
	header  http.Header
	raw     map[string]any
	Error   string `json:"error"`
	Access  string `json:"access_token"`
	ID      string `json:"id_token"`
	Refresh string `json:"refresh_token"`
}

// post sends a form to path, with Basic credentials when user is set.
func (e *env) post(path string, form url.Values, user, pass string) oauthJSON {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out := oauthJSON{status: resp.StatusCode, header: resp.Header}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &out.raw); err != nil {
			e.t.Fatalf("%s answered %d with non-JSON %q", path, resp.StatusCode, body)
		}
		_ = json.Unmarshal(body, &out)
	}
	return out
}

func (e *env) introspect(token string) bool {
	e.t.Helper()
	got := e.post(authserver.PathIntrospect, url.Values{"token": {token}}, serviceID, e.serviceSecret)
	if got.status != http.StatusOK {
		e.t.Fatalf("introspection answered %d: %v", got.status, got.raw)
	}
	return got.raw["active"] == true
}

// browser is a cookie-keeping HTTP client standing in for a person's
// browser in the tests that do not need Chromium: it follows redirects
// within the authserver and stops at the client's redirect URI.
type browser struct {
	e      *env
	client *http.Client
}

func (e *env) newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{e: e, client: &http.Client{Jar: jar}}
	b.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), e.issuer) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return b
}

type page struct {
	status   int
	body     string
	location *url.URL // set when the flow left for the client
}

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, body: string(body)}
	if resp.StatusCode/100 == 3 {
		p.location, _ = resp.Location()
	}
	return p
}

func (b *browser) get(rawURL string) page {
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	return b.do(req)
}

func (b *browser) postForm(path string, form url.Values) page {
	req, _ := http.NewRequest(http.MethodPost, b.e.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var hiddenField = regexp.MustCompile(`name="(id|csrf_token)" value="([^"]*)"`)

// fields reads the hidden fields of a login or consent form.
func (p page) fields(t testing.TB) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(p.body, -1) {
		v.Set(m[1], m[2])
	}
	if v.Get("id") == "" || v.Get("csrf_token") == "" {
		t.Fatalf("no form on page (status %d): %s", p.status, p.body)
	}
	return v
}

// authorizeURL builds an authorization request for the public portal client.
func (e *env) portalConfig() *oauth2.Config {
	return &oauth2.Config{
		ClientID:    appID,
		RedirectURL: appRedirect,
		Scopes:      []string{"openid", "profile", "email", "offline_access", "admin.read"},
		Endpoint: oauth2.Endpoint{
			AuthURL:   e.issuer + authserver.PathAuthorize,
			TokenURL:  e.issuer + authserver.PathToken,
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// login completes login and consent in b for the authorization request
// at authURL and returns where the browser was sent back to.
func (b *browser) login(authURL string) *url.URL {
	t := b.e.t
	t.Helper()
	p := b.get(authURL)
	if p.location != nil {
		return p.location
	}
	if !strings.Contains(p.body, `<label for="password">`) {
		t.Fatalf("expected the login page, got %d: %s", p.status, p.body)
	}
	form := p.fields(t)
	form.Set("username", testUser)
	form.Set("password", testPassword)
	p = b.postForm(authserver.PathLogin, form)
	if p.location != nil {
		return p.location
	}
	if !strings.Contains(p.body, `value="allow"`) {
		t.Fatalf("expected the consent page, got %d: %s", p.status, p.body)
	}
	form = p.fields(t)
	form.Set("decision", "allow")
	p = b.postForm(authserver.PathConsent, form)
	if p.location == nil {
		t.Fatalf("consent did not return to the client: %d %s", p.status, p.body)
	}
	return p.location
}
