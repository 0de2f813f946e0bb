package caddyhost

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-gw/gatehouse/authserver"
	"github.com/gatehouse-gw/gatehouse/internal/metrics"
)

// registerMetrics adds the authserver's process-wide collectors to the
// registry of the config being provisioned, so counts carry over a reload.
func registerMetrics(reg *prometheus.Registry) error {
	return metrics.Register(reg, authserver.Collectors()...)
}
