package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
	"go.uber.org/zap"

	_ "github.com/gatehouse-gw/gatehouse/caddymodule/apikey"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
	_ "github.com/gatehouse-gw/gatehouse/caddymodule/policy"
)

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// gateway is the real Caddy, in process, with the gatehouse policy handler
// and this API in one route, the way the root Caddyfile composes them.
type gateway struct {
	t         *testing.T
	tester    *caddytest.Tester
	store     *keystore.CachedStore
	adminKey  string // an API key holding admin.read and admin.write
	adminID   string
	adminURL  string // the admin site, e.g. http://localhost:PORT
	posURL    string // a POS site that needs pos.read
	adminPort int
	storeFile string
	config    string
}

// gatewayConfig is the Caddyfile under test. The admin site guards every
// path with the API-key track (admin.read at least); behind it the clients
// API answers its paths and a stand-in legacy admin upstream the rest.
const gatewayConfig = `{
	admin localhost:%[1]d
	auto_https off
	persist_config off
	http_port %[2]d
}
http://localhost:%[2]d {
	gatehouse {
		api_key {
			store %[4]s
		}
		scopes admin.read
	}
	gatehouse_admin_api {
		store %[4]s
		max_body_size 4KiB
	}
	respond "legacy admin upstream" 200
}
http://localhost:%[3]d {
	gatehouse {
		api_key {
			store %[4]s
		}
		scopes pos.read
	}
	respond "pos member lookup for {http.auth.user.client_id}" 200
}
`

// startGateway seeds a key store with an admin client and loads the
// gateway configuration into an in-process Caddy.
func startGateway(t *testing.T) *gateway {
	t.Helper()
	g := &gateway{t: t, adminPort: freePort(t), storeFile: filepath.Join(t.TempDir(), "keys.db")}
	// Holding the store from the pool first sets its flush interval, so
	// that last_used_at shows within the test.
	store, err := keystore.Acquire(g.storeFile, keystore.PoolOptions{FlushInterval: 100 * time.Millisecond, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	g.store = store
	admin, key, _, err := store.Create(context.Background(), keystore.NewClient{Name: "ops console", Scopes: []string{"admin.read", "admin.write"}})
	if err != nil {
		t.Fatal(err)
	}
	g.adminKey, g.adminID = key, admin.ID
	apiPort, posPort := freePort(t), freePort(t)
	g.adminURL = fmt.Sprintf("http://localhost:%d", apiPort)
	g.posURL = fmt.Sprintf("http://localhost:%d", posPort)
	g.tester = caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: g.adminPort})
	t.Cleanup(g.unload)
	g.config = fmt.Sprintf(gatewayConfig, g.adminPort, apiPort, posPort, g.storeFile)
	g.tester.InitServer(g.config, "caddyfile")
	return g
}

// reload loads the configuration again with edit applied, as `caddy
// reload` does: the new handlers are provisioned while the old ones still
// hold the store.
func (g *gateway) reload(edit func(string) string) {
	g.t.Helper()
	g.config = edit(g.config)
	g.tester.InitServer(g.config, "caddyfile")
}

// unload replaces the configuration with an empty one and releases the
// test's hold on the store, so that the file is closed before the test's
// files go.
func (g *gateway) unload() {
	g.unloadConfig()
	if err := keystore.Release(g.storeFile); err != nil {
		g.t.Errorf("releasing the store: %v", err)
	}
}

// unloadConfig replaces the configuration with an empty one.
func (g *gateway) unloadConfig() {
	req, _ := http.NewRequest("POST", fmt.Sprintf("http://localhost:%d/load", g.adminPort),
		strings.NewReader(fmt.Sprintf(`{"admin": {"listen": "localhost:%d", "config": {"persist": false}}}`, g.adminPort)))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

// send makes a request with an optional API key and JSON body.
func (g *gateway) send(method, url, apiKey, body string) (int, http.Header, string) {
	g.t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		g.t.Fatal(err)
	}
	if apiKey != "" {
		req.Header.Set("X-Api-Key", apiKey)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return g.do(req)
}

// do sends req through the gateway.
func (g *gateway) do(req *http.Request) (int, http.Header, string) {
	g.t.Helper()
	resp, err := g.tester.Client.Do(req)
	if err != nil {
		g.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// admin calls the clients API as the admin and decodes the answer into out.
func (g *gateway) admin(method, path, body string, wantStatus int, out any) {
	g.t.Helper()
	status, _, b := g.send(method, g.adminURL+path, g.adminKey, body)
	if status != wantStatus {
		g.t.Fatalf("%s %s: %d %s, want %d", method, path, status, b, wantStatus)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(b), out); err != nil {
			g.t.Fatalf("%s %s: decoding %s: %v", method, path, b, err)
		}
	}
}

// pos uses key on the POS route and returns the status.
func (g *gateway) pos(key string) int {
	g.t.Helper()
	status, _, _ := g.send("GET", g.posURL+"/pos/api/v1/members/lookup?phone=5551234567", key, "")
	return status
}

// TestThroughCaddy runs the API in the real Caddy behind the gatehouse
// policy handler and checks that each change applies to the very next
// request through the gateway.
func TestThroughCaddy(t *testing.T) {
	g := startGateway(t)

	// The policy handler guards every path of the admin site.
	if status, _, _ := g.send("GET", g.adminURL+clientsPath, "", ""); status != http.StatusUnauthorized {
		t.Fatalf("no credential: %d, want 401", status)
	}
	// Paths that are not this API reach the upstream behind it.
	if status, _, body := g.send("GET", g.adminURL+"/admin/api/v1/users", g.adminKey, ""); status != 200 || body != "legacy admin upstream" {
		t.Errorf("other admin path: %d %q", status, body)
	}

	var c issued
	g.admin("POST", clientsPath, `{"name": "POS terminal 1", "scopes": ["pos.read"]}`, http.StatusCreated, &c)
	if status, _, body := g.send("GET", g.posURL+"/pos/api/v1/members/lookup", c.APIKey, ""); status != 200 || body != "pos member lookup for "+c.ID {
		t.Fatalf("new key on the POS route: %d %q", status, body)
	}
	// A POS key is no admin credential.
	if status, _, _ := g.send("GET", g.adminURL+clientsPath, c.APIKey, ""); status != http.StatusForbidden {
		t.Errorf("POS key on the admin API: %d, want 403", status)
	}

	// A reload shares the open store: nothing is lost, nothing blocks.
	g.reload(func(cfg string) string { return strings.Replace(cfg, "max_body_size 4KiB", "max_body_size 8KiB", 1) })
	var listed clientPage
	g.admin("GET", clientsPath, "", http.StatusOK, &listed)
	if len(listed.Clients) != 2 || g.pos(c.APIKey) != 200 {
		t.Fatalf("after a reload: %d clients listed, new key answered %d", len(listed.Clients), g.pos(c.APIKey))
	}

	// Rotation with grace: both keys work until the grace ends, then only the new one.
	var r1 issued
	g.admin("POST", clientsPath+"/"+c.ID+"/rotate-secret", `{"grace_period_seconds": 2}`, http.StatusOK, &r1)
	until := r1.PendingRotation.RetiringUntil
	if g.pos(c.APIKey) != 200 || g.pos(r1.APIKey) != 200 {
		t.Fatalf("during the grace period: old %d, new %d, want both 200", g.pos(c.APIKey), g.pos(r1.APIKey))
	}
	time.Sleep(time.Until(until.Add(-300 * time.Millisecond)))
	if s := g.pos(c.APIKey); s != 200 {
		t.Errorf("old key 300ms before the grace ends: %d, want 200", s)
	}
	time.Sleep(time.Until(until))
	if s := g.pos(c.APIKey); s != http.StatusUnauthorized {
		t.Errorf("old key once the grace ended: %d, want 401", s)
	}

	// Rotation without grace: the old key is refused on the next request.
	var r2 issued
	g.admin("POST", clientsPath+"/"+c.ID+"/rotate-secret", "", http.StatusOK, &r2)
	if old, cur := g.pos(r1.APIKey), g.pos(r2.APIKey); old != http.StatusUnauthorized || cur != 200 {
		t.Errorf("after a rotation without grace: old key %d, new key %d", old, cur)
	}

	// Disable, enable, scope change, delete: each on the next request.
	g.admin("POST", clientsPath+"/"+c.ID+"/disable", "", http.StatusOK, nil)
	if s := g.pos(r2.APIKey); s != http.StatusUnauthorized {
		t.Errorf("disabled key: %d, want 401", s)
	}
	g.admin("POST", clientsPath+"/"+c.ID+"/enable", "", http.StatusOK, nil)
	if s := g.pos(r2.APIKey); s != 200 {
		t.Errorf("re-enabled key: %d, want 200", s)
	}
	g.admin("PATCH", clientsPath+"/"+c.ID, `{"scopes": ["pos.write"]}`, http.StatusOK, nil)
	if s := g.pos(r2.APIKey); s != http.StatusForbidden {
		t.Errorf("key without pos.read: %d, want 403", s)
	}
	g.admin("PATCH", clientsPath+"/"+c.ID, `{"scopes": ["pos.read"], "expires_at": "`+time.Now().Add(time.Hour).UTC().Format(time.RFC3339)+`"}`, http.StatusOK, nil)
	if s := g.pos(r2.APIKey); s != 200 {
		t.Errorf("key with pos.read again: %d, want 200", s)
	}

	// last_used_at is written in batches, not per request.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var got clientView
		g.admin("GET", clientsPath+"/"+c.ID, "", http.StatusOK, &got)
		if got.LastUsedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("last_used_at still null 5s after the key was used")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Bad input through the gateway changes nothing.
	before, err := g.store.List(context.Background(), keystore.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ body, contentType string }{
		{`{"name": "x", "scopes": [], "status": "active"}`, "application/json"},
		{`{"name": "` + strings.Repeat("x", 5000) + `", "scopes": []}`, "application/json"},
		{`name=x`, "application/x-www-form-urlencoded"},
	} {
		req, _ := http.NewRequest("POST", g.adminURL+clientsPath, strings.NewReader(bad.body))
		req.Header.Set("X-Api-Key", g.adminKey)
		req.Header.Set("Content-Type", bad.contentType)
		resp, err := g.tester.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 && resp.StatusCode != 415 {
			t.Errorf("bad create %.40s: %d", bad.body, resp.StatusCode)
		}
	}
	after, err := g.store.List(context.Background(), keystore.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Clients) != len(before.Clients) {
		t.Errorf("bad input created clients")
	}

	g.admin("DELETE", clientsPath+"/"+c.ID, "", http.StatusNoContent, nil)
	if s := g.pos(r2.APIKey); s != http.StatusUnauthorized {
		t.Errorf("deleted client's key: %d, want 401", s)
	}

	// The audit log names the admin (the API-key track's subject is the
	// admin client's id) and the source address, for every change.
	var audit auditPage
	g.admin("GET", "/admin/api/v1/audit?target="+c.ID, "", http.StatusOK, &audit)
	var actions []string
	for _, e := range audit.Entries {
		actions = append(actions, e.Action)
		if e.Actor.Subject != g.adminID || e.Actor.ClientID != g.adminID || e.Actor.RemoteAddr != "127.0.0.1" {
			t.Errorf("audit actor %+v, want %s from 127.0.0.1", e.Actor, g.adminID)
		}
	}
	if got, want := strings.Join(actions, ","), "delete,update,update,enable,disable,rotate,rotate,create"; got != want {
		t.Errorf("audit actions %s, want %s", got, want)
	}
}
