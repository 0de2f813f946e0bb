package adminapi

import (
	"math"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dustin/go-humanize"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("gatehouse_admin_api", parseCaddyfile)
	// After every authentication directive (gatehouse sits after
	// basic_auth) and before the handlers that answer or proxy, so that a
	// reverse_proxy in the same route gets the paths this API leaves.
	httpcaddyfile.RegisterDirectiveOrder("gatehouse_admin_api", httpcaddyfile.Before, "respond")
}

// parseCaddyfile sets up the admin API handler from Caddyfile tokens.
// Syntax:
//
//	gatehouse_admin_api [<matcher>] {
//	    store <path>                       # key store file; default: gatehouse/keys.db in Caddy's data dir
//	    prefix <key_prefix>                # default: rsa_live_
//	    base_path <path>                   # default: /admin/api/v1
//	    max_body_size <size>               # e.g. 64KiB (default)
//	    default_grace_period <duration>    # default: 0
//	    max_grace_period <duration>        # default: 720h (30 days)
//	    read_scope <scope>                 # default: admin.read
//	    write_scope <scope>                # default: admin.write
//	    realm <realm>                      # default: gatehouse; use the gatehouse directive's realm
//	}
//
// Every option is optional, and so is the block. The handler needs the
// gatehouse directive in front of it in the same route, which verifies the
// caller's token; without it every API request is refused with 401.
// Example:
//
//	:5001 {
//	    gatehouse {
//	        bearer {
//	            issuer http://localhost:5000
//	        }
//	        scopes admin.read
//	    }
//	    gatehouse_admin_api {
//	        store {$GATEHOUSE_DATA_DIR}/keys.db
//	    }
//	    reverse_proxy {$ADMIN_UPSTREAM}
//	}
func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	handler := new(Handler)
	err := handler.UnmarshalCaddyfile(h.Dispenser)
	return handler, err
}

// UnmarshalCaddyfile reads the directive; see parseCaddyfile.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		option := d.Val()
		var value string
		if !d.AllArgs(&value) {
			return d.ArgErr()
		}
		switch option {
		case "store":
			h.Store = value
		case "prefix":
			h.Prefix = value
		case "base_path":
			h.BasePath = value
		case "max_body_size":
			size, err := humanize.ParseBytes(value)
			if err != nil || size == 0 || size > math.MaxInt64 {
				return d.Errf("max_body_size must be a positive size such as 64KiB, not %q", value)
			}
			h.MaxBodyBytes = int64(size)
		case "default_grace_period", "max_grace_period":
			dur, err := caddy.ParseDuration(value)
			if err != nil || dur < 0 || dur == 0 && option == "max_grace_period" {
				return d.Errf("%s must be a duration such as 24h, not %q", option, value)
			}
			if option == "default_grace_period" {
				h.DefaultGracePeriod = caddy.Duration(dur)
			} else {
				h.MaxGracePeriod = caddy.Duration(dur)
			}
		case "read_scope":
			h.ReadScope = value
		case "write_scope":
			h.WriteScope = value
		case "realm":
			h.Realm = value
		default:
			return d.Errf("unknown gatehouse_admin_api option %q", option)
		}
	}
	return nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Handler)(nil)
