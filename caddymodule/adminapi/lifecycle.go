package adminapi

import (
	"net/http"
	"time"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

// setStatus answers POST {base}/clients/{id}/disable and .../enable. A
// disabled client's keys are refused from the next request on.
func (q *request) setStatus(s keystore.Status) {
	if f := q.emptyBody(); f != nil {
		q.fail(f)
		return
	}
	c, err := q.h.store.SetStatus(q.changeContext(), q.id, s)
	if err != nil {
		q.storeFail("set status", err)
		return
	}
	if s == keystore.StatusDisabled {
		q.logChange("disabled", c.ID)
	} else {
		q.logChange("enabled", c.ID)
	}
	q.respond(http.StatusOK, viewClient(c, time.Now()))
}

// delete answers DELETE {base}/clients/{id}: the client and its keys are
// gone, and its keys refused from the next request on.
func (q *request) delete() {
	if f := q.emptyBody(); f != nil {
		q.fail(f)
		return
	}
	if err := q.h.store.Delete(q.changeContext(), q.id); err != nil {
		q.storeFail("delete", err)
		return
	}
	q.logChange("deleted", q.id)
	q.w.WriteHeader(http.StatusNoContent)
}

// emptyBody accepts no body or an empty JSON object, the bodies of
// requests that take no input.
func (q *request) emptyBody() *authn.Failure {
	body, f := q.h.readBody(q.w, q.r)
	if f != nil || len(body) == 0 {
		return f
	}
	return decodeJSON(body, &struct{}{})
}
