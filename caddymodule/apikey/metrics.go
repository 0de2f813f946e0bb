package apikey

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
	"github.com/gatehouse-gw/gatehouse/internal/metrics"
)

// cacheLookups reports the lookup cache of every open key store. The
// counts belong to the stores, which the pool shares across reloads, so
// they are read at scrape time rather than kept twice.
var cacheLookups = cacheCollector{desc: prometheus.NewDesc(
	metrics.Namespace+"_api_key_cache_lookups_total",
	"Lookups of API keys in a key store's cache, by store file and result (hit, miss). A miss reads the store.",
	[]string{"store", "result"}, nil,
)}

type cacheCollector struct{ desc *prometheus.Desc }

// Describe implements prometheus.Collector.
func (c cacheCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c cacheCollector) Collect(ch chan<- prometheus.Metric) {
	keystore.RangePooled(func(path string, store *keystore.CachedStore) bool {
		s := store.Stats()
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(s.Hits), path, "hit")
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(s.Misses), path, "miss")
		return true
	})
}
