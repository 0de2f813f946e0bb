package bearer

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"
	"github.com/golang-jwt/jwt/v5"
)

// TestInCaddyAuthenticationHandler runs the real Caddy with its stock
// authentication handler and this provider, configured in JSON.
func TestInCaddyAuthenticationHandler(t *testing.T) {
	k := newRSAKey(t, "k1", jwt.SigningMethodRS256)
	iss := startIssuer(t, k)
	adminPort, httpPort := freePort(t), freePort(t)
	admin := fmt.Sprintf(`"admin": {"listen": "localhost:%d", "config": {"persist": false}}`, adminPort)

	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: adminPort})
	tester.InitServer(fmt.Sprintf(`{
		%s,
		"apps": {"http": {"http_port": %d, "servers": {"gateway": {
			"listen": ["127.0.0.1:%d"],
			"automatic_https": {"disable": true},
			"routes": [{"handle": [
				{"handler": "authentication", "providers": {"gatehouse_bearer": {"issuers": [%q], "audiences": ["gateway"]}}},
				{"handler": "static_response", "status_code": 200, "body": "client={http.auth.user.client_id} scopes={http.auth.user.scopes}"}
			]}]
		}}}}
	}`, admin, httpPort, httpPort, iss.url), "json")
	// Unloading the config cleans the provider up, as a reload would.
	t.Cleanup(func() {
		resp, err := http.Post(fmt.Sprintf("http://localhost:%d/load", adminPort), "application/json", strings.NewReader("{"+admin+"}"))
		if err != nil {
			t.Errorf("unloading the config: %v", err)
			return
		}
		resp.Body.Close()
	})

	url := fmt.Sprintf("http://localhost:%d/orders", httpPort)
	request := func(authorization string) *http.Request {
		r, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		return r
	}
	claims := iss.claims()
	claims["aud"] = "gateway"

	tester.AssertResponse(request("Bearer "+sign(t, k, claims, nil)), http.StatusOK, "client=client-1 scopes=admin.read admin.write")

	refusals := []struct {
		name, authorization, challenge string
	}{
		{"no credential", "", `Bearer realm="gatehouse"`},
		{"tampered signature", "Bearer " + tamper(sign(t, k, claims, nil)),
			`Bearer realm="gatehouse", error="invalid_token", error_description="token signature invalid"`},
		{"wrong audience", "Bearer " + sign(t, k, iss.claims(), nil),
			`Bearer realm="gatehouse", error="invalid_token", error_description="token audience not accepted"`},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			resp := tester.AssertResponseCode(request(tt.authorization), http.StatusUnauthorized)
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %s, want %s", got, tt.challenge)
			}
		})
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
