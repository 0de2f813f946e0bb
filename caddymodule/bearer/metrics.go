package bearer

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// The collectors live for the whole process, so counts survive `caddy
// reload`; each new config's registry registers the same collectors.
var (
	jwksRefreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "gatehouse",
		Subsystem: "bearer",
		Name:      "jwks_refreshes_total",
		Help:      "Fetches of an issuer's JWKS (first fetch, scheduled refresh, unknown-kid refresh), by issuer and outcome (success, failure).",
	}, []string{"issuer", "outcome"})

	cacheLookups = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "gatehouse",
		Subsystem: "bearer",
		Name:      "cache_lookups_total",
		Help:      "Lookups of verified tokens in the decision cache, by result (hit, miss).",
	}, []string{"result"})

	// Resolved once: the hot path increments these without a label lookup.
	cacheHits   = cacheLookups.WithLabelValues("hit")
	cacheMisses = cacheLookups.WithLabelValues("miss")
)

// registerMetrics adds the track's collectors to a config's registry. The
// same collectors are registered again on every reload, and several
// providers in one config register them more than once; both are expected.
func registerMetrics(registry *prometheus.Registry) error {
	if registry == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{jwksRefreshes, cacheLookups} {
		if err := registry.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if errors.As(err, &already) && already.ExistingCollector == c {
				continue
			}
			return fmt.Errorf("registering bearer metrics: %w", err)
		}
	}
	return nil
}
