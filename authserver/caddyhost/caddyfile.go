package caddyhost

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("gatehouse_authserver", parseCaddyfile)
	// It answers requests itself, like respond.
	httpcaddyfile.RegisterDirectiveOrder("gatehouse_authserver", httpcaddyfile.Before, "respond")
}

// parseCaddyfile sets up the authserver handler from Caddyfile tokens.
// Syntax:
//
//	gatehouse_authserver [<matcher>] {
//	    issuer <url>                      # required, e.g. http://localhost:5000
//	    store <path>                      # required, the bbolt file
//	    key_encryption_key_file <path>    # else $GATEHOUSE_KEY_ENCRYPTION_KEY
//	    seed <path>                       # JSON clients and users to create
//	    demo_credentials <path>           # first start: create and write demo credentials
//	    key_store <path>                  # API-key store for the demo POS key
//	    audience <aud> [<aud>...]         # default <issuer>/resources
//	    scope_format string|array         # default string
//	    access_token_lifetime <duration>  # default 1h
//	    max_token_lifetime <duration>     # default 24h
//	    key_rotation_interval <duration>  # default 720h
//	    key_publish_lead <duration>       # default 24h
//	}
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
	textOptions := map[string]*string{
		"issuer":                  &h.Issuer,
		"store":                   &h.Store,
		"key_encryption_key_file": &h.KeyEncryptionKeyFile,
		"seed":                    &h.Seed,
		"demo_credentials":        &h.DemoCredentials,
		"key_store":               &h.KeyStore,
		"scope_format":            &h.ScopeFormat,
	}
	durations := map[string]*caddy.Duration{
		"access_token_lifetime": &h.AccessTokenLifetime,
		"max_token_lifetime":    &h.MaxTokenLifetime,
		"key_rotation_interval": &h.KeyRotationInterval,
		"key_publish_lead":      &h.KeyPublishLead,
	}
	for d.NextBlock(0) {
		name := d.Val()
		switch {
		case textOptions[name] != nil:
			if !d.NextArg() {
				return d.ArgErr()
			}
			*textOptions[name] = d.Val()
		case durations[name] != nil:
			if !d.NextArg() {
				return d.ArgErr()
			}
			dur, err := caddy.ParseDuration(d.Val())
			if err != nil {
				return d.Errf("%s: %v", name, err)
			}
			*durations[name] = caddy.Duration(dur)
		case name == "audience":
			h.Audience = d.RemainingArgs()
			if len(h.Audience) == 0 {
				return d.ArgErr()
			}
			continue
		default:
			return d.Errf("unknown gatehouse_authserver option %q", name)
		}
		if d.NextArg() {
			return d.ArgErr()
		}
	}
	return nil
}

var _ caddyfile.Unmarshaler = (*Handler)(nil)
