package adminapi

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
)

// rotateRequest is the optional body of POST {base}/clients/{id}/rotate-secret.
type rotateRequest struct {
	// GracePeriodSeconds keeps the old key valid this long; absent means
	// the handler's default_grace_period.
	GracePeriodSeconds *int64 `json:"grace_period_seconds"`
}

// rotate answers POST {base}/clients/{id}/rotate-secret: a new key, this
// once. The old key stays valid for the grace period, then is refused.
func (q *request) rotate() {
	grace, f := q.gracePeriod()
	if f != nil {
		q.fail(f)
		return
	}
	c, key, err := q.h.store.Rotate(q.changeContext(), q.id, grace)
	if err != nil {
		q.storeFail("rotate", err)
		return
	}
	q.logChange("key rotated", c.ID,
		zap.String("key_prefix", c.Key.Prefix),
		zap.String("grace_period_seconds", strconv.FormatInt(int64(grace/time.Second), 10)))
	q.respond(http.StatusOK, issuedView{clientView: viewClient(c, time.Now()), APIKey: key})
}

// gracePeriod reads the optional body of a rotation.
func (q *request) gracePeriod() (time.Duration, *authn.Failure) {
	body, f := q.h.readBody(q.w, q.r)
	if f != nil {
		return 0, f
	}
	grace := time.Duration(q.h.DefaultGracePeriod)
	if len(body) == 0 {
		return grace, nil
	}
	var in rotateRequest
	if f := decodeJSON(body, &in); f != nil {
		return 0, f
	}
	if in.GracePeriodSeconds == nil {
		return grace, nil
	}
	maxSeconds := int64(time.Duration(q.h.MaxGracePeriod) / time.Second)
	if s := *in.GracePeriodSeconds; s < 0 || s > maxSeconds {
		return 0, errInvalid(fmt.Sprintf("grace_period_seconds must be from 0 to %d", maxSeconds))
	}
	return time.Duration(*in.GracePeriodSeconds) * time.Second, nil
}
