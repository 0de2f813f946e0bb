package apikey

import (
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// UnmarshalCaddyfile reads the track's block inside the gatehouse
// directive. Syntax:
//
//	api_key {
//	    store <path>
//	    header <name>
//	    prefix <prefix>
//	    cache_max_entries <n>
//	    last_used_flush_interval <duration>
//	}
//
// The block is optional: a bare `api_key` takes every default.
func (p *Provider) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the track name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "store":
			if !d.AllArgs(&p.Store) {
				return d.ArgErr()
			}
		case "header":
			if !d.AllArgs(&p.Header) {
				return d.ArgErr()
			}
		case "prefix":
			if !d.AllArgs(&p.Prefix) {
				return d.ArgErr()
			}
		case "cache_max_entries":
			var v string
			if !d.AllArgs(&v) {
				return d.ArgErr()
			}
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return d.Errf("cache_max_entries must be a positive integer, not %q", v)
			}
			p.CacheMaxEntries = n
		case "last_used_flush_interval":
			var v string
			if !d.AllArgs(&v) {
				return d.ArgErr()
			}
			dur, err := caddy.ParseDuration(v)
			if err != nil || dur <= 0 {
				return d.Errf("last_used_flush_interval must be a positive duration, not %q", v)
			}
			p.LastUsedFlushInterval = caddy.Duration(dur)
		default:
			return d.Errf("unknown api_key option %q", d.Val())
		}
	}
	return nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Provider)(nil)
