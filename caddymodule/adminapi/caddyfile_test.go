package adminapi

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/gatehouse-gw/gatehouse/caddymodule/bearer"
	_ "github.com/gatehouse-gw/gatehouse/caddymodule/policy"
)

// TestUnmarshalCaddyfile: every option maps to its JSON field, and
// malformed options are refused.
func TestUnmarshalCaddyfile(t *testing.T) {
	d := caddyfile.NewTestDispenser(`gatehouse_admin_api {
		store /var/lib/gatehouse/keys.db
		prefix rsa_test_
		base_path /internal/v1
		max_body_size 16KiB
		default_grace_period 1h
		max_grace_period 48h
		read_scope clients.read
		write_scope clients.write
		realm admin
	}`)
	var h Handler
	if err := h.UnmarshalCaddyfile(d); err != nil {
		t.Fatal(err)
	}
	want := Handler{Store: "/var/lib/gatehouse/keys.db", Prefix: "rsa_test_", BasePath: "/internal/v1", MaxBodyBytes: 16 << 10,
		DefaultGracePeriod: caddy.Duration(time.Hour), MaxGracePeriod: caddy.Duration(48 * time.Hour),
		ReadScope: "clients.read", WriteScope: "clients.write", Realm: "admin"}
	got, _ := json.Marshal(h)
	wantJSON, _ := json.Marshal(want)
	if string(got) != string(wantJSON) {
		t.Errorf("got %s\nwant %s", got, wantJSON)
	}

	var bare Handler
	if err := bare.UnmarshalCaddyfile(caddyfile.NewTestDispenser(`gatehouse_admin_api`)); err != nil {
		t.Errorf("a bare directive: %v", err)
	}

	for _, bad := range []string{
		`gatehouse_admin_api extra`,
		"gatehouse_admin_api {\n store\n}",
		"gatehouse_admin_api {\n store a b\n}",
		"gatehouse_admin_api {\n max_body_size lots\n}",
		"gatehouse_admin_api {\n max_body_size 0\n}",
		"gatehouse_admin_api {\n default_grace_period -1h\n}",
		"gatehouse_admin_api {\n max_grace_period 0\n}",
		"gatehouse_admin_api {\n realm\n}",
		"gatehouse_admin_api {\n scope x\n}",
	} {
		var h Handler
		if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(bad)); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

// TestDirectiveOrder: in a site block without a route, the policy handler
// runs first, then this API, then the upstream.
func TestDirectiveOrder(t *testing.T) {
	adapter := caddyconfig()
	out, _, err := adapter.Adapt([]byte(`:5001 {
		reverse_proxy localhost:9000
		gatehouse_admin_api
		gatehouse {
			bearer {
				issuer http://localhost:5000
			}
			scopes admin.read
		}
	}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(out)
	policy := strings.Index(cfg, `"handler":"gatehouse"`)
	api := strings.Index(cfg, `"handler":"gatehouse_admin_api"`)
	proxy := strings.Index(cfg, `"handler":"reverse_proxy"`)
	if policy < 0 || api < 0 || proxy < 0 || !(policy < api && api < proxy) {
		t.Errorf("handler order in %s", cfg)
	}
}

func caddyconfig() caddyfile.Adapter {
	return caddyfile.Adapter{ServerType: httpcaddyfile.ServerType{}}
}
