package adminapi

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"

	_ "github.com/gatehouse-gw/gatehouse/caddymodule/bearer"
	"github.com/gatehouse-gw/gatehouse/caddymodule/internal/testissuer"
)

const bearerConfig = `{
	admin localhost:%[1]d
	auto_https off
	persist_config off
	http_port %[2]d
}
http://localhost:%[2]d {
	gatehouse {
		bearer {
			issuer %[3]s
			audience gatehouse
		}
		scopes admin.read
	}
	gatehouse_admin_api {
		store %[4]s
	}
	respond "legacy admin upstream" 200
}
`

// TestBearerAdminThroughCaddy: administrators reach the API with access
// tokens from a real issuer (discovery and JWKS over HTTP). The gatehouse
// policy lets admin.read through; this handler asks admin.write of
// changes; the audit log names the token's sub and client_id.
func TestBearerAdminThroughCaddy(t *testing.T) {
	iss := testissuer.New(t)
	token := func(sub, clientID, scopes string) string {
		claims := iss.Claims(clientID, scopes)
		claims["sub"] = sub
		return iss.Sign(t, claims)
	}
	admin := token("alice", "ops-console", "admin.read admin.write")
	reader := token("carol", "dashboard", "admin.read")

	adminPort, apiPort := freePort(t), freePort(t)
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: adminPort})
	g := &gateway{t: t, tester: tester, adminPort: adminPort, storeFile: filepath.Join(t.TempDir(), "keys.db")}
	t.Cleanup(g.unloadConfig)
	tester.InitServer(fmt.Sprintf(bearerConfig, adminPort, apiPort, iss.URL, g.storeFile), "caddyfile")
	base := fmt.Sprintf("http://localhost:%d", apiPort)

	call := func(tok, method, path, body string) (int, http.Header, string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		return g.do(req)
	}

	if status, _, _ := call(reader, "GET", clientsPath, ""); status != http.StatusOK {
		t.Fatalf("reader lists clients: %d", status)
	}
	status, hdr, body := call(reader, "POST", clientsPath, `{"name": "till", "scopes": ["pos.read"]}`)
	if status != http.StatusForbidden || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="insufficient_scope"`) ||
		!strings.Contains(hdr.Get("WWW-Authenticate"), `scope="admin.write"`) || !strings.Contains(body, "insufficient_scope") {
		t.Errorf("reader creates: %d %q %s", status, hdr.Get("WWW-Authenticate"), body)
	}
	status, _, body = call(admin, "POST", clientsPath, `{"name": "till", "scopes": ["pos.read"]}`)
	if status != http.StatusCreated {
		t.Fatalf("admin creates: %d %s", status, body)
	}
	status, _, body = call(reader, "GET", "/admin/api/v1/audit", "")
	if status != http.StatusOK || !strings.Contains(body, `"actor":{"subject":"alice","client_id":"ops-console","remote_addr":"127.0.0.1"}`) {
		t.Errorf("audit after the create: %d %s", status, body)
	}
	if status, _, body := call(reader, "GET", "/admin/api/v1/users", ""); status != 200 || body != "legacy admin upstream" {
		t.Errorf("other admin path with a bearer token: %d %q", status, body)
	}
}
