package policy

import (
	"encoding/json"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("gatehouse", parseCaddyfile)
	// With the other authentication directives: after the request is
	// rewritten, before anything answers it or proxies it.
	httpcaddyfile.RegisterDirectiveOrder("gatehouse", httpcaddyfile.After, "basic_auth")
}

// trackModules maps the Caddyfile's track blocks to provider modules.
var trackModules = map[string]string{
	"bearer":  "gatehouse_bearer",
	"api_key": "gatehouse_api_key",
}

// parseCaddyfile sets up the gatehouse handler from Caddyfile tokens. Syntax:
//
//	gatehouse [<matcher>] {
//	    bearer {
//	        issuer <url>
//	        ...                      # see the bearer track's options
//	    }
//	    api_key {
//	        store <path>
//	        ...                      # see the API-key track's options
//	    }
//	    scopes <scope> [<scope>...]  # all required
//	    realm <realm>
//	    identity_header_prefix <prefix>
//	    forward_credentials
//	}
//
// The tracks a route accepts are the track blocks present: `bearer`,
// `api_key`, or both. A track block may be given as just its name to take
// every default.
func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	handler := new(Handler)
	err := handler.UnmarshalCaddyfile(h.Dispenser)
	return handler, err
}

// UnmarshalCaddyfile reads the directive's block; see parseCaddyfile.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch name := d.Val(); name {
		case "bearer", "api_key":
			module := trackModules[name]
			if _, dup := h.TracksRaw[module]; dup {
				return d.Errf("track %s given twice", name)
			}
			track, err := caddyfile.UnmarshalModule(d, "http.authentication.providers."+module)
			if err != nil {
				return err
			}
			if h.TracksRaw == nil {
				h.TracksRaw = make(caddy.ModuleMap)
			}
			raw, err := json.Marshal(track)
			if err != nil {
				return d.Errf("encoding track %s: %v", name, err)
			}
			h.TracksRaw[module] = raw
		case "scopes":
			scopes := d.RemainingArgs()
			if len(scopes) == 0 {
				return d.ArgErr()
			}
			h.Scopes = append(h.Scopes, scopes...)
		case "realm":
			if !d.AllArgs(&h.Realm) {
				return d.ArgErr()
			}
		case "identity_header_prefix":
			if !d.AllArgs(&h.IdentityHeaderPrefix) {
				return d.ArgErr()
			}
		case "forward_credentials":
			if d.NextArg() {
				return d.ArgErr()
			}
			h.ForwardCredentials = true
		default:
			return d.Errf("unknown gatehouse option %q", name)
		}
	}
	return nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Handler)(nil)
