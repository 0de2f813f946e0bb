package bearer

import (
	"slices"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// UnmarshalCaddyfile reads the provider's block. The dispenser is
// positioned on the block's name (for example "bearer" inside the gatehouse
// directive), which is consumed first:
//
//	bearer {
//	    issuer <url> [<url>...]
//	    issuer <url> jwks_url <url>
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
// At least one issuer is required. issuer (or issuers) may be repeated,
// and its arguments add up: each is an issuer the block trusts. An issuer
// without OpenID discovery gets a line of its own that names its JWKS:
// `issuer <url> jwks_url <url>`. audience may be repeated too, and its
// arguments add up; algorithms replaces the default allow-list. The other
// settings apply to every issuer of the block. Each subdirective maps to
// the JSON field of the same name (issuer to issuers, the jwks_url of an
// issuer line to an entry of jwks_urls, audience to audiences); defaults
// are documented on Provider.
func (p *Provider) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the block's name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch name := d.Val(); name {
		case "issuer", "issuers":
			if err := p.unmarshalIssuerLine(d); err != nil {
				return err
			}
		case "jwks_url":
			return d.Err("jwks_url goes on the line of its issuer: issuer <url> jwks_url <url>")
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

// unmarshalIssuerLine reads `issuer <url> [<url>...]` or
// `issuer <url> jwks_url <url>`. An issuer URL is never the word
// jwks_url (it must be an absolute URL), so the two forms cannot be
// confused.
func (p *Provider) unmarshalIssuerLine(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	switch {
	case len(args) == 0:
		return d.ArgErr()
	case len(args) == 3 && args[1] == "jwks_url":
		if p.JWKSURLs == nil {
			p.JWKSURLs = make(map[string]string)
		}
		// A second line for the same issuer is refused by Validate.
		p.JWKSURLs[args[0]] = args[2]
		p.Issuers = append(p.Issuers, args[0])
	case slices.Contains(args, "jwks_url"):
		return d.Err("jwks_url names the JWKS of one issuer: issuer <url> jwks_url <url>")
	default:
		p.Issuers = append(p.Issuers, args...)
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
