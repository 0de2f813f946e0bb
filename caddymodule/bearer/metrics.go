package bearer

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-gw/gatehouse/internal/metrics"
)

// The collectors live for the whole process, so counts survive `caddy
// reload`; each new config's registry registers the same collectors.
var (
	jwksRefreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace,
		Subsystem: "bearer",
		Name:      "jwks_refreshes_total",
		Help:      "Fetches of an issuer's JWKS (first fetch, scheduled refresh, unknown-kid refresh), by issuer and outcome (success, failure).",
	}, []string{"issuer", "outcome"})

	cacheLookups = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace,
		Subsystem: "bearer",
		Name:      "cache_lookups_total",
		Help:      "Lookups of verified tokens in the decision cache, by result (hit, miss).",
	}, []string{"result"})

	// Resolved once: the hot path increments these without a label lookup.
	cacheHits   = cacheLookups.WithLabelValues("hit")
	cacheMisses = cacheLookups.WithLabelValues("miss")
)

// registerMetrics adds the track's collectors to a config's registry.
func registerMetrics(registry *prometheus.Registry) error {
	return metrics.Register(registry, jwksRefreshes, cacheLookups)
}
