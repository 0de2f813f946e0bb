package bearer

import (
	"context"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/golang-jwt/jwt/v5"
)

// TestMetricsInCaddysRegistry checks that the JWKS and cache counters are
// gathered from the config's registry, and that registering them for a
// second provider (or after a reload) is not an error.
func TestMetricsInCaddysRegistry(t *testing.T) {
	k := newRSAKey(t, "k1", jwt.SigningMethodRS256)
	iss := startIssuer(t, k)
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	for range 2 {
		p := Provider{Issuers: []string{iss.url}}
		if err := p.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		defer p.Cleanup()
		if _, err := p.Verify(context.Background(), sign(t, k, iss.claims(), nil)); err != nil {
			t.Fatal(err)
		}
	}

	families, err := ctx.GetMetricsRegistry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch f.GetName() {
			case "gatehouse_bearer_jwks_refreshes_total":
				if labels["issuer"] == iss.url && labels["outcome"] == "success" && m.GetCounter().GetValue() >= 1 {
					found["refresh"] = true
				}
			case "gatehouse_bearer_cache_lookups_total":
				if labels["result"] == "miss" && m.GetCounter().GetValue() >= 1 {
					found["cache"] = true
				}
			}
		}
	}
	if !found["refresh"] || !found["cache"] {
		t.Errorf("gathered %v; want the issuer's successful refresh and cache misses", found)
	}
}
