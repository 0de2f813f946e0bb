package adminapi

import (
	"net/http"
	"time"

	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

// list answers GET {base}/clients?limit=&cursor=&status=.
func (q *request) list() {
	params, f := parseQuery(q.r.URL, "limit", "cursor", "status")
	if f != nil {
		q.fail(f)
		return
	}
	limit, cursor, f := pageParams(params)
	if f != nil {
		q.fail(f)
		return
	}
	status := keystore.Status(params["status"])
	switch status {
	case "", keystore.StatusActive, keystore.StatusDisabled:
	default:
		q.fail(errInvalid("status must be active or disabled"))
		return
	}
	page, err := q.h.store.List(q.r.Context(), keystore.ListOptions{Status: status, After: cursor, Limit: limit})
	if err != nil {
		q.storeFail("list", err)
		return
	}
	now := time.Now()
	out := clientPage{Clients: make([]clientView, 0, len(page.Clients)), NextCursor: optionalCursor(page.Next)}
	for _, c := range page.Clients {
		out.Clients = append(out.Clients, viewClient(c, now))
	}
	q.respond(http.StatusOK, out)
}

// get answers GET {base}/clients/{id}.
func (q *request) get() {
	if _, f := parseQuery(q.r.URL); f != nil {
		q.fail(f)
		return
	}
	c, err := q.h.store.Get(q.r.Context(), q.id)
	if err != nil {
		q.storeFail("get", err)
		return
	}
	q.respond(http.StatusOK, viewClient(c, time.Now()))
}
