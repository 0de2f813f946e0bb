package policy

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-gw/gatehouse/internal/metrics"
)

// Decision outcomes, the values of the "outcome" label.
const (
	outcomeAccepted    = "accepted"
	outcomeRefused     = "refused"
	outcomeUnavailable = "unavailable"
)

// decisions counts every decision by track, outcome and refusal reason.
// Reasons are a small fixed set of labels chosen by the tracks, so the
// series stay bounded.
var decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: metrics.Namespace,
	Name:      "auth_decisions_total",
	Help:      "Authentication decisions by track (bearer, api_key, none), outcome (accepted, refused, unavailable) and refusal reason.",
}, []string{"track", "outcome", "reason"})
