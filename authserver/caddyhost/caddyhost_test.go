package caddyhost

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddytest"

	"github.com/gatehouse-gw/gatehouse/authserver"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

func TestCaddyfileSyntax(t *testing.T) {
	d := caddyfile.NewTestDispenser(`gatehouse_authserver {
		issuer http://localhost:5000
		store ./data/authserver.db
		key_encryption_key_file /run/secrets/kek
		seed seed.json
		demo_credentials ./data/demo-credentials.json
		key_store ./data/keys.db
		audience api://gatehouse https://api.example
		scope_format array
		access_token_lifetime 30m
		id_token_lifetime 10m
		refresh_token_lifetime 168h
		code_lifetime 2m
		auth_request_lifetime 15m
		session_lifetime 1h
		max_token_lifetime 12h
		key_rotation_interval 720h
		key_publish_lead 48h
		login_throttle {
			per_account 3
			per_address 50
			window 30m
		}
		scope_descriptions {
			orders.read "See your orders"
			admin.read "Look at the back office"
		}
	}`)
	var h Handler
	if err := h.UnmarshalCaddyfile(d); err != nil {
		t.Fatal(err)
	}
	want := Handler{
		Issuer: "http://localhost:5000", Store: "./data/authserver.db", KeyEncryptionKeyFile: "/run/secrets/kek",
		Seed: "seed.json", DemoCredentials: "./data/demo-credentials.json", KeyStore: "./data/keys.db",
		Audience: []string{"api://gatehouse", "https://api.example"}, ScopeFormat: "array",
		AccessTokenLifetime: caddy.Duration(30 * time.Minute), IDTokenLifetime: caddy.Duration(10 * time.Minute),
		RefreshTokenLifetime: caddy.Duration(168 * time.Hour), CodeLifetime: caddy.Duration(2 * time.Minute),
		AuthRequestLifetime: caddy.Duration(15 * time.Minute), SessionLifetime: caddy.Duration(time.Hour),
		MaxTokenLifetime: caddy.Duration(12 * time.Hour), KeyRotationInterval: caddy.Duration(720 * time.Hour),
		KeyPublishLead:    caddy.Duration(48 * time.Hour),
		LoginThrottle:     &LoginThrottle{PerAccount: 3, PerAddress: 50, Window: caddy.Duration(30 * time.Minute)},
		ScopeDescriptions: map[string]string{"orders.read": "See your orders", "admin.read": "Look at the back office"},
	}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("parsed\n%+v\nwant\n%+v", h, want)
	}
	if err := h.Validate(); err != nil {
		t.Fatalf("the parsed options do not validate: %v", err)
	}

	for _, bad := range []string{
		"gatehouse_authserver extra {\n}",
		"gatehouse_authserver {\n issuer\n}",
		"gatehouse_authserver {\n issuer a b\n}",
		"gatehouse_authserver {\n colour blue\n}",
		"gatehouse_authserver {\n access_token_lifetime soon\n}",
		"gatehouse_authserver {\n code_lifetime\n}",
		"gatehouse_authserver {\n demo_credentials a.json maybe\n}",
		"gatehouse_authserver {\n demo_credentials a.json on off\n}",
		"gatehouse_authserver {\n login_throttle {\n per_account many\n }\n}",
		"gatehouse_authserver {\n login_throttle {\n per_account 0\n }\n}",
		"gatehouse_authserver {\n login_throttle {\n lockout 5m\n }\n}",
		"gatehouse_authserver {\n login_throttle 5\n}",
		"gatehouse_authserver {\n scope_descriptions {\n orders.read\n }\n}",
		"gatehouse_authserver {\n scope_descriptions {\n orders.read See your orders\n }\n}",
	} {
		var h Handler
		if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}

	// demo_credentials: a path turns them on; off, no argument (an empty
	// environment variable) or a trailing off turns them off.
	for line, want := range map[string]string{
		"demo_credentials ./data/demo.json":     "./data/demo.json",
		"demo_credentials ./data/demo.json on":  "./data/demo.json",
		"demo_credentials ./data/demo.json off": "",
		"demo_credentials off":                  "",
		"demo_credentials":                      "",
		`demo_credentials ""`:                   "",
	} {
		h := Handler{DemoCredentials: "preset"}
		if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser("gatehouse_authserver {\n" + line + "\n}")); err != nil {
			t.Errorf("%s: %v", line, err)
		} else if h.DemoCredentials != want || h.demoCredentialsFile() != want {
			t.Errorf("%s: demo credentials %q, want %q", line, h.DemoCredentials, want)
		}
	}
	// In JSON, "off" is off as well.
	if (&Handler{DemoCredentials: "off"}).demoCredentialsFile() != "" {
		t.Error(`JSON "demo_credentials": "off" is not off`)
	}

	// Values out of bounds are refused by Validate, before anything opens.
	for _, bad := range []Handler{
		{Issuer: "http://localhost:5000", Store: "a.db", CodeLifetime: caddy.Duration(time.Hour)},
		{Issuer: "http://localhost:5000", Store: "a.db", IDTokenLifetime: caddy.Duration(48 * time.Hour)},
		{Issuer: "http://localhost:5000", Store: "a.db", LoginThrottle: &LoginThrottle{Window: caddy.Duration(time.Second)}},
		{Issuer: "http://localhost:5000", Store: "a.db", ScopeDescriptions: map[string]string{"orders": ""}},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("validated %+v", bad)
		}
	}
}

// Ports of this package's tests (the lead's port plan): every test that
// runs Caddy shares one in-process Caddy and its admin endpoint.
const (
	adminPort      = 3151
	hostedPort     = 9151
	reloadPort     = 9152
	keyFileEnvPort = 9153
)

// startCaddy loads config into the test process's Caddy and, when the
// test ends, leaves it with an empty config that serves nothing.
func startCaddy(t *testing.T, config string) *caddytest.Tester {
	t.Helper()
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: adminPort, LoadRequestTimeout: 30 * time.Second})
	t.Cleanup(stopCaddy)
	tester.InitServer(config, "caddyfile")
	return tester
}

// stopCaddy loads an empty config: the handlers are cleaned up and the
// store files closed.
func stopCaddy() {
	req, _ := http.NewRequest("POST", fmt.Sprintf("http://localhost:%d/load", adminPort),
		strings.NewReader(fmt.Sprintf(`{"admin": {"listen": "localhost:%d", "config": {"persist": false}}}`, adminPort)))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

const caddyConfig = `{
	admin localhost:%[1]d
	auto_https off
	persist_config off
	http_port %[2]d
}
http://localhost:%[2]d {
	gatehouse_authserver {
		issuer http://localhost:%[2]d
		store %[3]s/authserver.db
		demo_credentials %[3]s/demo-credentials.json
		key_store %[3]s/keys.db
		access_token_lifetime %[4]s
	}
}
`

func clientCredentials(t *testing.T, issuer string, creds *authserver.DemoCredentials) map[string]any {
	t.Helper()
	// A new connection each time: a reload closes idle ones, and a POST on
	// a connection closed under it is not retried by net/http.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.PostForm(issuer+"/connect/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {creds.AdminClient.ClientID}, "client_secret": {creds.AdminClient.ClientSecret}, "scope": {"admin.read"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok map[string]any
	json.NewDecoder(resp.Body).Decode(&tok)
	if resp.StatusCode != 200 {
		t.Fatalf("token: %d %v", resp.StatusCode, tok)
	}
	return tok
}

// TestHostedInCaddy runs the authserver inside a real Caddy from a
// Caddyfile: demo credentials (with the POS key in the gateway's key
// store) on first start, the seed's token request, and a reload that
// keeps the store, the keys and the credentials.
func TestHostedInCaddy(t *testing.T) {
	port := hostedPort
	dir := t.TempDir()
	issuer := fmt.Sprintf("http://localhost:%d", port)
	tester := startCaddy(t, fmt.Sprintf(caddyConfig, adminPort, port, dir, "1h"))

	raw, err := os.ReadFile(filepath.Join(dir, "demo-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var creds authserver.DemoCredentials
	if err := json.Unmarshal(raw, &creds); err != nil {
		t.Fatal(err)
	}
	if creds.Issuer != issuer || creds.POSKey == nil || !strings.HasPrefix(creds.POSKey.APIKey, "rsa_live_") {
		t.Fatalf("demo credentials %s", raw)
	}
	first := clientCredentials(t, issuer, &creds)
	if first["expires_in"] != float64(3600) {
		t.Fatalf("token %v", first)
	}

	// Reload with another lifetime: the store stays open and shared.
	tester.InitServer(fmt.Sprintf(caddyConfig, adminPort, port, dir, "30m"), "caddyfile")
	second := clientCredentials(t, issuer, &creds)
	if second["expires_in"] != float64(1800) {
		t.Fatalf("after reload: %v", second)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "demo-credentials.json"))
	if string(after) != string(raw) {
		t.Fatal("reload created new demo credentials")
	}
	if k1, k2 := kid(t, first["access_token"].(string)), kid(t, second["access_token"].(string)); k1 != k2 {
		t.Fatalf("reload changed the signing key: %s, %s", k1, k2)
	}

	// The POS key works against the gateway's key store.
	ks, err := keystore.Acquire(filepath.Join(dir, "keys.db"), keystore.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer keystore.Release(filepath.Join(dir, "keys.db"))
	if c, _, err := ks.Lookup(t.Context(), keystore.HashKey(creds.POSKey.APIKey)); err != nil || c.ID != creds.POSKey.ID {
		t.Fatalf("POS key not in the key store: %+v %v", c, err)
	}
}

// kid reads the key id from a JWT's header.
func kid(t *testing.T, token string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.SplitN(token, ".", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	var header struct{ Kid string }
	if err := json.Unmarshal(raw, &header); err != nil {
		t.Fatal(err)
	}
	return header.Kid
}
