package caddyhost

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-gw/gatehouse/authserver"
)

// registerMetrics adds the authserver's collectors to the registry of the
// config being provisioned. The collectors are process-wide, so counts
// carry over a reload; a config registers them once, and its other
// handlers find them there. This mirrors caddymodule/internal/metrics,
// which Go's internal rule keeps out of reach of this package.
func registerMetrics(reg *prometheus.Registry) error {
	if reg == nil {
		return nil
	}
	for _, c := range authserver.Collectors() {
		err := reg.Register(c)
		var already prometheus.AlreadyRegisteredError
		if errors.As(err, &already) && already.ExistingCollector == c {
			continue
		}
		if err != nil {
			return fmt.Errorf("registering authserver metrics: %w", err)
		}
	}
	return nil
}
