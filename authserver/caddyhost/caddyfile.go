package caddyhost

import (
	"strconv"

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
//	    issuer <url>                       # required, e.g. http://localhost:5000
//	    store <path>                       # required, the bbolt file
//	    key_encryption_key_file <path>     # else $GATEHOUSE_KEY_ENCRYPTION_KEY_FILE, $GATEHOUSE_KEY_ENCRYPTION_KEY
//	    seed <path>                        # JSON clients and users, each applied once
//	    demo_credentials [<path>|off] [on|off]  # first start: create and write demo credentials
//	    key_store <path>                   # API-key store for the demo POS key
//	    audience <aud> [<aud>...]          # default <issuer>/resources
//	    scope_format string|array          # default string
//	    access_token_lifetime <duration>   # default 1h
//	    id_token_lifetime <duration>       # default 1h
//	    refresh_token_lifetime <duration>  # default 720h
//	    code_lifetime <duration>           # default 5m
//	    auth_request_lifetime <duration>   # default 30m
//	    session_lifetime <duration>        # default 8h
//	    max_token_lifetime <duration>      # default 24h
//	    key_rotation_interval <duration>   # default 720h
//	    key_publish_lead <duration>        # default 24h
//	    login_throttle {
//	        per_account <n>                # default 5
//	        per_address <n>                # default 20
//	        window <duration>              # default 15m
//	    }
//	    scope_descriptions {
//	        <scope> <text>                 # the consent page's words
//	    }
//	}
//
// demo_credentials without a path, or with the word off as its path or
// after it, creates no demo credentials: a Caddyfile can then write
// `demo_credentials {$VAR:<path>}` or `demo_credentials <path> {$VAR:on}`
// and leave the choice to the environment.
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
		"key_store":               &h.KeyStore,
		"scope_format":            &h.ScopeFormat,
	}
	durations := map[string]*caddy.Duration{
		"access_token_lifetime":  &h.AccessTokenLifetime,
		"id_token_lifetime":      &h.IDTokenLifetime,
		"refresh_token_lifetime": &h.RefreshTokenLifetime,
		"code_lifetime":          &h.CodeLifetime,
		"auth_request_lifetime":  &h.AuthRequestLifetime,
		"session_lifetime":       &h.SessionLifetime,
		"max_token_lifetime":     &h.MaxTokenLifetime,
		"key_rotation_interval":  &h.KeyRotationInterval,
		"key_publish_lead":       &h.KeyPublishLead,
	}
	for d.NextBlock(0) {
		name := d.Val()
		var err error
		switch {
		case textOptions[name] != nil:
			err = oneArg(d, textOptions[name])
		case durations[name] != nil:
			err = durationArg(d, durations[name])
		case name == "audience":
			h.Audience = d.RemainingArgs()
			if len(h.Audience) == 0 {
				return d.ArgErr()
			}
		case name == "demo_credentials":
			err = h.unmarshalDemoCredentials(d)
		case name == "login_throttle":
			err = h.unmarshalLoginThrottle(d)
		case name == "scope_descriptions":
			err = h.unmarshalScopeDescriptions(d)
		default:
			return d.Errf("unknown gatehouse_authserver option %q", name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// oneArg reads the option's single argument into dst.
func oneArg(d *caddyfile.Dispenser, dst *string) error {
	if !d.NextArg() {
		return d.ArgErr()
	}
	*dst = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

// durationArg reads the option's single duration argument into dst.
func durationArg(d *caddyfile.Dispenser, dst *caddy.Duration) error {
	name := d.Val()
	var text string
	if err := oneArg(d, &text); err != nil {
		return err
	}
	dur, err := caddy.ParseDuration(text)
	if err != nil {
		return d.Errf("%s: %v", name, err)
	}
	*dst = caddy.Duration(dur)
	return nil
}

// unmarshalDemoCredentials reads `demo_credentials [<path>|off] [on|off]`.
func (h *Handler) unmarshalDemoCredentials(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	if len(args) > 2 {
		return d.ArgErr()
	}
	path, state := "", "on"
	if len(args) > 0 {
		path = args[0]
	}
	if len(args) == 2 {
		state = args[1]
	}
	if state != "on" && state != demoCredentialsOff {
		return d.Errf("demo_credentials: the second argument is on or off, not %q", state)
	}
	if path == demoCredentialsOff || state == demoCredentialsOff {
		path = ""
	}
	h.DemoCredentials = path
	return nil
}

// unmarshalLoginThrottle reads the login_throttle block.
func (h *Handler) unmarshalLoginThrottle(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	t := new(LoginThrottle)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch name := d.Val(); name {
		case "per_account":
			err = intArg(d, &t.PerAccount)
		case "per_address":
			err = intArg(d, &t.PerAddress)
		case "window":
			err = durationArg(d, &t.Window)
		default:
			return d.Errf("unknown login_throttle option %q", name)
		}
		if err != nil {
			return err
		}
	}
	h.LoginThrottle = t
	return nil
}

// intArg reads the option's single positive integer argument into dst.
func intArg(d *caddyfile.Dispenser, dst *int) error {
	name := d.Val()
	var text string
	if err := oneArg(d, &text); err != nil {
		return err
	}
	n, err := strconv.Atoi(text)
	if err != nil || n <= 0 {
		return d.Errf("%s: want a positive whole number, not %q", name, text)
	}
	*dst = n
	return nil
}

// unmarshalScopeDescriptions reads the scope_descriptions block: one
// scope and its words per line.
func (h *Handler) unmarshalScopeDescriptions(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	if h.ScopeDescriptions == nil {
		h.ScopeDescriptions = make(map[string]string)
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		scope := d.Val()
		var text string
		if err := oneArg(d, &text); err != nil {
			return d.Errf("scope_descriptions: %s: want one quoted description", scope)
		}
		h.ScopeDescriptions[scope] = text
	}
	return nil
}

var _ caddyfile.Unmarshaler = (*Handler)(nil)
