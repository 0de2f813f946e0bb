package policy

import (
	"fmt"
	"net/http"
	"sort"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
)

// track is one accepted track with its acceptance counter, resolved once
// so that counting costs no label lookup per request.
type track struct {
	authn.Verifier
	accepted prometheus.Counter
}

// loadTracks provisions the track modules in a fixed order (by module
// name), so that the same request always meets the same track first.
func loadTracks(ctx caddy.Context, h *Handler) ([]*track, error) {
	mods, err := ctx.LoadModule(h, "TracksRaw")
	if err != nil {
		return nil, fmt.Errorf("gatehouse: loading tracks: %w", err)
	}
	byName := mods.(map[string]any)
	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	sort.Strings(names)
	tracks := make([]*track, 0, len(names))
	for _, name := range names {
		v, ok := byName[name].(authn.Verifier)
		if !ok {
			return nil, fmt.Errorf("gatehouse: provider %q is not a Gatehouse track", name)
		}
		tracks = append(tracks, &track{
			Verifier: v,
			accepted: decisions.WithLabelValues(string(v.Track()), outcomeAccepted, ""),
		})
	}
	return tracks, nil
}

// credential finds the one credential the request carries among the
// accepted tracks. A request that carries credentials of two tracks is
// refused (RFC 6750 section 3.1: more than one method), rather than letting
// the order of checks decide who the caller is.
func (h *Handler) credential(r *http.Request) (*track, string, *authn.Failure) {
	var found *track
	var credential string
	for _, t := range h.tracks {
		c, present, fail := t.Credential(r)
		if fail != nil {
			return t, "", fail
		}
		if !present {
			continue
		}
		if found != nil {
			return nil, "", authn.InvalidRequest("multiple_credentials",
				"the request carries more than one credential; send either a bearer token or an API key")
		}
		found, credential = t, c
	}
	return found, credential, nil
}

// removeCredentials deletes every accepted track's credential header.
func (h *Handler) removeCredentials(r *http.Request) {
	for _, t := range h.tracks {
		r.Header.Del(t.CredentialHeader())
	}
}

// missingDescription tells a caller without a credential what to send.
func (h *Handler) missingDescription() string {
	s := "authentication required: send "
	for i, t := range h.tracks {
		if i > 0 {
			s += " or "
		}
		if t.Track() == authn.TrackBearer {
			s += "a bearer token in the Authorization header"
		} else {
			s += "an API key in the " + t.CredentialHeader() + " header"
		}
	}
	return s
}
