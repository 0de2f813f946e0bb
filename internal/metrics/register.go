// Package metrics registers Gatehouse's Prometheus collectors, the
// gateway modules' and the authserver's alike, in Caddy's per-config
// metrics registry.
package metrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Namespace prefixes every Gatehouse metric name.
const Namespace = "gatehouse"

// Register adds process-wide collectors to reg, the registry of the config
// being provisioned. Collectors are created once per process so that counts
// carry over a `caddy reload`; one config may provision many handlers that
// register the same collector, which is not an error. A nil registry (a
// module provisioned outside a running config) registers nothing.
func Register(reg *prometheus.Registry, collectors ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for _, c := range collectors {
		err := reg.Register(c)
		var already prometheus.AlreadyRegisteredError
		if errors.As(err, &already) && already.ExistingCollector == c {
			continue
		}
		if err != nil {
			return fmt.Errorf("registering metrics: %w", err)
		}
	}
	return nil
}
