package policy_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-gw/gatehouse/caddymodule/internal/testissuer"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
	_ "github.com/gatehouse-gw/gatehouse/plugins"
)

const (
	adminPort = 3111
	httpPort  = 9111
)

var base = fmt.Sprintf("http://localhost:%d", httpPort)

// upstream records what the gateway forwarded.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	last http.Header
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.last = r.Header.Clone()
		u.mu.Unlock()
		_, _ = io.WriteString(w, "upstream ok")
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) lastHeaders() http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last
}

// gateway is a real Caddy with the gatehouse handler on three routes, a
// real issuer over HTTP and a real key store file.
type gateway struct {
	tester   *caddytest.Tester
	issuer   *testissuer.Issuer
	up       *upstream
	store    *keystore.CachedStore
	dir      string
	storeDB  string
	logFile  string
	config   string
	released bool
}

func startGateway(t *testing.T) *gateway {
	t.Helper()
	g := &gateway{issuer: testissuer.New(t), up: newUpstream(t), dir: t.TempDir()}
	g.storeDB = filepath.Join(g.dir, "keys.db")
	g.logFile = filepath.Join(g.dir, "caddy.log")
	// The test shares the gateway's store through the same pool, exactly
	// as the admin API does in a running process.
	store, err := keystore.Acquire(g.storeDB, keystore.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g.store = store
	t.Cleanup(func() { g.release(t) })
	g.config = g.render("")
	g.tester = caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: adminPort})
	g.tester.InitServer(g.config, "caddyfile")
	return g
}

func (g *gateway) release(t *testing.T) {
	if !g.released {
		g.released = true
		if err := keystore.Release(g.storeDB); err != nil {
			t.Error(err)
		}
	}
}

// render writes the test's Caddyfile; extra is added to the bearer route.
func (g *gateway) render(extra string) string {
	return fmt.Sprintf(`{
	admin localhost:%[1]d
	http_port %[2]d
	servers {
		# Large enough for the 100 KiB token to reach the bearer track,
		# whose own limit must refuse it.
		max_header_size 1MiB
	}
	log {
		output file %[3]s
		level DEBUG
	}
}
(bearer_track) {
	bearer {
		issuer %[4]s
		audience gatehouse
		unknown_kid_refresh_interval 1m
	}
}
(api_key_track) {
	api_key {
		store %[5]s
	}
}
http://localhost:%[2]d {
	# The access log as docs/caddyfile.md recommends: Caddy redacts
	# Authorization itself, but not X-Api-Key.
	log {
		output file %[3]s
		format filter {
			request>headers>X-Api-Key delete
		}
	}
	route /bearer/* {
		gatehouse {
			import bearer_track
			scopes orders.read
			realm test
		}
		%[7]s
		reverse_proxy %[6]s
	}
	route /key/* {
		gatehouse {
			import api_key_track
			realm test
		}
		reverse_proxy %[6]s
	}
	route /either/* {
		gatehouse {
			import bearer_track
			import api_key_track
			realm test
		}
		reverse_proxy %[6]s
	}
}
`, adminPort, httpPort, g.logFile, g.issuer.URL, g.storeDB, strings.TrimPrefix(g.up.URL, "http://"), extra)
}

type answer struct {
	status    int
	challenge string
	body      map[string]string
	raw       string
}

func call(t *testing.T, method, path string, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, challenge: strings.Join(resp.Header.Values("WWW-Authenticate"), ", "), raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
func apiKey(key string) map[string]string { return map[string]string{"X-Api-Key": key} }

func (g *gateway) createKey(t *testing.T, c keystore.NewClient) (keystore.Client, string) {
	t.Helper()
	if c.Name == "" {
		c.Name = "terminal"
	}
	if c.Scopes == nil {
		c.Scopes = []string{"pos.read"}
	}
	client, key, _, err := g.store.Create(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return client, key
}

func TestTracksAccepted(t *testing.T) {
	g := startGateway(t)

	tok := g.issuer.Sign(t, g.issuer.Claims("etl-service", "orders.read orders.write"))
	a := call(t, "GET", "/bearer/orders", map[string]string{
		"Authorization":    "Bearer " + tok,
		"X-Auth-Subject":   "spoofed-admin",
		"X-Auth-Something": "spoofed",
	})
	if a.status != 200 || a.raw != "upstream ok" {
		t.Fatalf("bearer: got %d %q", a.status, a.raw)
	}
	h := g.up.lastHeaders()
	for name, want := range map[string]string{
		"X-Auth-Client-Id": "etl-service",
		"X-Auth-Subject":   "etl-service",
		"X-Auth-Scopes":    "orders.read orders.write",
		"X-Auth-Track":     "bearer",
		"X-Auth-Key-Id":    "k1",
		"X-Auth-Issuer":    g.issuer.URL,
	} {
		if got := h.Get(name); got != want {
			t.Errorf("upstream %s = %q, want %q", name, got, want)
		}
	}
	if h.Get("Authorization") != "" || h.Get("X-Auth-Something") != "" {
		t.Errorf("upstream received the credential or a spoofed identity header: %v", h)
	}

	client, key := g.createKey(t, keystore.NewClient{Name: "till 4"})
	a = call(t, "GET", "/key/members", apiKey(key))
	if a.status != 200 {
		t.Fatalf("api key: got %d %s", a.status, a.raw)
	}
	h = g.up.lastHeaders()
	if h.Get("X-Auth-Client-Id") != client.ID || h.Get("X-Auth-Track") != "api_key" ||
		h.Get("X-Auth-Scopes") != "pos.read" || h.Get("X-Auth-Key-Id") != client.Key.Prefix {
		t.Errorf("upstream identity for API key: %v", h)
	}
	if h.Get("X-Api-Key") != "" {
		t.Error("upstream received the API key")
	}
	if h.Get("X-Auth-Issuer") != "" {
		t.Error("an API-key request carries an issuer header")
	}

	// A route that accepts either track takes each, but never both at once.
	if a := call(t, "GET", "/either/x", apiKey(key)); a.status != 200 {
		t.Errorf("either route, API key: %d", a.status)
	}
	if a := call(t, "GET", "/either/x", bearer(tok)); a.status != 200 {
		t.Errorf("either route, bearer: %d", a.status)
	}
	both := map[string]string{"Authorization": "Bearer " + tok, "X-Api-Key": key}
	if a := call(t, "GET", "/either/x", both); a.status != 400 || a.body["error"] != "invalid_request" {
		t.Errorf("either route, both credentials: %d %s", a.status, a.raw)
	}
}

func TestRefusals(t *testing.T) {
	g := startGateway(t)
	iss := g.issuer
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := iss.Claims("etl-service", "orders.read")
		edit(c)
		return c
	}
	pubDER, err := x509.MarshalPKIXPublicKey(iss.Key("k1").Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	noneTok, err := jwt.NewWithClaims(jwt.SigningMethodNone, iss.Claims("etl-service", "orders.read")).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	valid := iss.Sign(t, iss.Claims("etl-service", "orders.read"))
	parts := strings.Split(valid, ".")
	sig := []byte(parts[2])
	sig[10] ^= 1
	if sig[10] == '.' {
		sig[10] = 'A'
	}
	tampered := parts[0] + "." + parts[1] + "." + string(sig)

	disabled, disabledKey := g.createKey(t, keystore.NewClient{})
	if _, err := g.store.SetStatus(context.Background(), disabled.ID, keystore.StatusDisabled); err != nil {
		t.Fatal(err)
	}
	_, expiringKey := g.createKey(t, keystore.NewClient{ExpiresAt: time.Now().Add(1500 * time.Millisecond)})
	rotated, rotatedKey := g.createKey(t, keystore.NewClient{})
	if _, _, err := g.store.Rotate(context.Background(), rotated.ID, time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1600 * time.Millisecond) // past the expiry and the grace period

	_, goodKey := g.createKey(t, keystore.NewClient{})
	unknownKey := mustFormat(t).Generate()
	// One character of the random part changed: well formed, checksum wrong.
	i := len(keystore.DefaultKeyPrefix) + 5
	badChecksum := goodKey[:i] + flip(goodKey[i]) + goodKey[i+1:]

	type refusal struct {
		name, path string
		header     map[string]string
		status     int
		code       string // "" for the bare challenge
		scheme     string
	}
	cases := []refusal{
		{"no credential", "/bearer/x", nil, 401, "", "Bearer"},
		{"garbage", "/bearer/x", bearer("garbage"), 401, "invalid_token", "Bearer"},
		{"alg none", "/bearer/x", bearer(noneTok), 401, "invalid_token", "Bearer"},
		{"HS256 with the RSA public key", "/bearer/x", bearer(testissuer.SignWith(t, jwt.SigningMethodHS256, pubPEM, "k1", iss.Claims("etl-service", "orders.read"))), 401, "invalid_token", "Bearer"},
		{"expired", "/bearer/x", bearer(iss.Sign(t, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }))), 401, "invalid_token", "Bearer"},
		{"nbf in the future", "/bearer/x", bearer(iss.Sign(t, claims(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() }))), 401, "invalid_token", "Bearer"},
		{"wrong iss", "/bearer/x", bearer(iss.Sign(t, claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }))), 401, "invalid_token", "Bearer"},
		{"wrong aud", "/bearer/x", bearer(iss.Sign(t, claims(func(c jwt.MapClaims) { c["aud"] = "another-api" }))), 401, "invalid_token", "Bearer"},
		{"unknown kid", "/bearer/x", bearer(testissuer.SignWith(t, jwt.SigningMethodRS256, iss.Key("k1"), "made-up", iss.Claims("etl-service", "orders.read"))), 401, "invalid_token", "Bearer"},
		{"tampered signature", "/bearer/x", bearer(tampered), 401, "invalid_token", "Bearer"},
		{"100 KiB token", "/bearer/x", bearer(strings.Repeat("A", 100<<10)), 401, "invalid_token", "Bearer"},
		{"missing scope", "/bearer/x", bearer(iss.Sign(t, iss.Claims("etl-service", "orders.write"))), 403, "insufficient_scope", "Bearer"},
		{"no API key", "/key/x", nil, 401, "", "ApiKey"},
		{"wrong key prefix", "/key/x", apiKey("sk_live_" + goodKey[len("rsa_live_"):]), 401, "invalid_token", "ApiKey"},
		{"bad checksum", "/key/x", apiKey(badChecksum), 401, "invalid_token", "ApiKey"},
		{"unknown key", "/key/x", apiKey(unknownKey), 401, "invalid_token", "ApiKey"},
		{"disabled key", "/key/x", apiKey(disabledKey), 401, "invalid_token", "ApiKey"},
		{"expired key", "/key/x", apiKey(expiringKey), 401, "invalid_token", "ApiKey"},
		{"rotated-out key after grace", "/key/x", apiKey(rotatedKey), 401, "invalid_token", "ApiKey"},
		{"bearer token on an API-key route", "/key/x", bearer(valid), 401, "", "ApiKey"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := call(t, "GET", c.path, c.header)
			if a.status != c.status {
				t.Fatalf("status %d, want %d (%s)", a.status, c.status, a.raw)
			}
			wantChallenge := c.scheme + ` realm="test"`
			if !strings.HasPrefix(a.challenge, wantChallenge) {
				t.Errorf("WWW-Authenticate %q, want it to start with %q", a.challenge, wantChallenge)
			}
			if c.code == "" {
				if strings.Contains(a.challenge, "error=") {
					t.Errorf("challenge without credential must carry no error code: %q", a.challenge)
				}
			} else {
				if !strings.Contains(a.challenge, `error="`+c.code+`"`) || a.body["error"] != c.code {
					t.Errorf("want error %s in challenge %q and body %s", c.code, a.challenge, a.raw)
				}
			}
			if a.body["error_description"] == "" {
				t.Errorf("body lacks error_description: %s", a.raw)
			}
			if c.code == "insufficient_scope" && !strings.Contains(a.challenge, `scope="orders.read"`) {
				t.Errorf("insufficient_scope must name the scope: %q", a.challenge)
			}
		})
	}
	if hits := iss.JWKSHits(); hits > 2 {
		t.Errorf("the made-up kid caused %d JWKS fetches; at most one refresh per interval is allowed", hits)
	}
	// Nothing a client sent, no token and no key, may reach the logs.
	logs, err := os.ReadFile(g.logFile)
	if err != nil {
		t.Fatal(err)
	}
	for i, secret := range []string{valid, goodKey, disabledKey, rotatedKey, badChecksum, parts[2]} {
		if strings.Contains(string(logs), secret) {
			t.Fatalf("credential %d reached the log file", i)
		}
	}
	if !strings.Contains(string(logs), `"request refused"`) {
		t.Errorf("refusals are not logged")
	}
}

func mustFormat(t *testing.T) keystore.KeyFormat {
	f, err := keystore.NewKeyFormat(keystore.DefaultKeyPrefix)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// flip returns another base64url character than c.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}
