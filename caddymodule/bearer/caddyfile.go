package bearer

import (
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// UnmarshalCaddyfile reads the provider's block. The dispenser is
// positioned on the block's name (for example "bearer" inside the gatehouse
// directive), which is consumed first:
//
//	bearer {
//	    issuer <url>
//	    jwks_url <url>
//	    audience <aud> [<aud>...]
//	    algorithms <alg> [<alg>...]
//	    leeway <duration>
//	    require_at_jwt
//	    max_token_bytes <n>
//	    refresh_interval <duration>
//	    unknown_kid_refresh_interval <duration>
//	    http_timeout <duration>
//	    cache_max_entries <n>
//	}
//
// Only issuer is required. audience may be repeated, and its arguments
// add up; algorithms replaces the default allow-list. Each subdirective maps
// to the JSON field of the same name (audience to audiences); defaults are
// documented on Provider.
func (p *Provider) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the block's name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch name := d.Val(); name {
		case "issuer":
			if err := oneArg(d, &p.Issuer); err != nil {
				return err
			}
		case "jwks_url":
			if err := oneArg(d, &p.JWKSURL); err != nil {
				return err
			}
		case "audience", "audiences":
			auds := d.RemainingArgs()
			if len(auds) == 0 {
				return d.ArgErr()
			}
			p.Audiences = append(p.Audiences, auds...)
		case "algorithms":
			algs := d.RemainingArgs()
			if len(algs) == 0 {
				return d.ArgErr()
			}
			p.Algorithms = algs
		case "leeway":
			leeway, err := durationArg(d)
			if err != nil {
				return err
			}
			p.Leeway = &leeway
		case "require_at_jwt":
			if d.NextArg() {
				return d.ArgErr()
			}
			p.RequireATJWT = true
		case "max_token_bytes":
			n, err := intArg(d)
			if err != nil {
				return err
			}
			p.MaxTokenBytes = n
		case "refresh_interval", "unknown_kid_refresh_interval", "http_timeout":
			dur, err := durationArg(d)
			if err != nil {
				return err
			}
			switch name {
			case "refresh_interval":
				p.RefreshInterval = dur
			case "unknown_kid_refresh_interval":
				p.UnknownKIDRefreshInterval = dur
			default:
				p.HTTPTimeout = dur
			}
		case "cache_max_entries":
			n, err := intArg(d)
			if err != nil {
				return err
			}
			p.CacheMaxEntries = n
		default:
			return d.Errf("unrecognized bearer subdirective %q", name)
		}
	}
	return nil
}

func oneArg(d *caddyfile.Dispenser, into *string) error {
	if !d.Args(into) || d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

func durationArg(d *caddyfile.Dispenser) (caddy.Duration, error) {
	var raw string
	if err := oneArg(d, &raw); err != nil {
		return 0, err
	}
	dur, err := caddy.ParseDuration(raw)
	if err != nil {
		return 0, d.Errf("invalid duration %q: %v", raw, err)
	}
	return caddy.Duration(dur), nil
}

func intArg(d *caddyfile.Dispenser) (int, error) {
	var raw string
	if err := oneArg(d, &raw); err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, d.Errf("not a whole number: %q", raw)
	}
	return n, nil
}
