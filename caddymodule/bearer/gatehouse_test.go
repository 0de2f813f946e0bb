package bearer

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
	"github.com/golang-jwt/jwt/v5"

	_ "github.com/gatehouse-gw/gatehouse/caddymodule/policy"
)

// The bearer track's ports in the project's test port plan.
const (
	gatehouseAdminPort = 3101
	gatehouseHTTPPort  = 9101
)

// TestGatehouseDirectiveWithSeveralIssuers runs the real Caddy with the
// gatehouse directive, configured in a Caddyfile, on a route whose bearer
// block trusts three issuers, as during a migration: the old issuer, the
// new one (whose JWKS is named, so discovery is skipped), and one that is
// down when the config loads.
func TestGatehouseDirectiveWithSeveralIssuers(t *testing.T) {
	oldKey, newKey, lateKey := newRSAKey(t, "old-1", jwt.SigningMethodRS256), newECKey(t, "new-1"), newEdKey(t, "late-1")
	old, current, late := startIssuer(t, oldKey), startIssuer(t, newKey), reserveIssuer(t, lateKey)
	stranger := startIssuer(t, newKey)

	admin := fmt.Sprintf("localhost:%d", gatehouseAdminPort)
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: gatehouseAdminPort})
	tester.InitServer(fmt.Sprintf(`{
	admin %[1]s
	http_port %[2]d
}
http://localhost:%[2]d {
	route /orders/* {
		gatehouse {
			bearer {
				issuer %[3]s %[4]s
				issuer %[5]s jwks_url %[5]s/jwks
				audience gateway
			}
			scopes orders.read
			realm orders
		}
		respond "client={http.auth.user.client_id} key={http.auth.user.key_id}"
	}
}
`, admin, gatehouseHTTPPort, old.url, late.url, current.url), "caddyfile")
	// Unloading the config cleans the provider up, as a reload would.
	t.Cleanup(func() {
		resp, err := http.Post("http://"+admin+"/load", "application/json",
			strings.NewReader(fmt.Sprintf(`{"admin": {"listen": %q}}`, admin)))
		if err != nil {
			t.Errorf("unloading the config: %v", err)
			return
		}
		resp.Body.Close()
	})

	tokenOf := func(iss *testIssuer, k *testKey) string {
		claims := iss.claims()
		claims["aud"] = "gateway"
		claims["scope"] = "orders.read"
		claims["client_id"] = "client-of-" + k.kid
		return sign(t, k, claims, nil)
	}
	get := func(token string) (*http.Response, string) {
		r, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://localhost:%d/orders/1", gatehouseHTTPPort), nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}

	for _, tt := range []struct {
		iss *testIssuer
		key *testKey
	}{{old, oldKey}, {current, newKey}} {
		resp, body := get(tokenOf(tt.iss, tt.key))
		want := fmt.Sprintf("client=client-of-%s key=%s", tt.key.kid, tt.key.kid)
		if resp.StatusCode != http.StatusOK || body != want {
			t.Errorf("token of %s: %d %q, want 200 %q", tt.iss.url, resp.StatusCode, body, want)
		}
	}
	if n := current.discoveryHits.Load(); n != 0 {
		t.Errorf("discovery ran %d times for the issuer whose jwks_url is set", n)
	}

	refusals := []struct {
		name, token string
		status      int
		challenge   string
	}{
		{"the old issuer's key, claiming the new issuer", tokenOf(current, oldKey), http.StatusUnauthorized,
			`Bearer realm="orders", error="invalid_token", error_description="signing key unknown"`},
		{"an issuer not trusted", tokenOf(stranger, newKey), http.StatusUnauthorized,
			`Bearer realm="orders", error="invalid_token", error_description="token issuer not accepted"`},
		{"the issuer that is down", tokenOf(late, lateKey), http.StatusServiceUnavailable,
			`Bearer realm="orders", error="temporarily_unavailable", error_description="issuer signing keys not available yet; retry later"`},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(tt.token)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d %s, want %d", resp.StatusCode, body, tt.status)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %s, want %s", got, tt.challenge)
			}
			if retry := resp.Header.Get("Retry-After"); (tt.status == http.StatusServiceUnavailable) != (retry != "") {
				t.Errorf("Retry-After = %q with status %d", retry, tt.status)
			}
		})
	}
	if n := stranger.discoveryHits.Load() + stranger.jwksHits.Load(); n != 0 {
		t.Errorf("the untrusted issuer was contacted %d times", n)
	}

	// The issuer that was down comes up; its tokens pass once its keys are
	// fetched (the retries back off from 1s).
	late.start()
	lateToken := tokenOf(late, lateKey)
	waitFor(t, 10*time.Second, "the token of the issuer that came up to pass", func() bool {
		resp, _ := get(lateToken)
		return resp.StatusCode == http.StatusOK
	})
}
