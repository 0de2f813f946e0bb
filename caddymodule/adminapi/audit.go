package adminapi

import (
	"net/http"

	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

// audit answers GET {base}/audit?limit=&cursor=&target=, newest first.
func (q *request) audit() {
	params, f := parseQuery(q.r.URL, "limit", "cursor", "target")
	if f != nil {
		q.fail(f)
		return
	}
	limit, cursor, f := pageParams(params)
	if f != nil {
		q.fail(f)
		return
	}
	target, filtered := params["target"]
	if filtered && !validID(target) {
		q.fail(errInvalid("target must be a client id"))
		return
	}
	page, err := q.h.store.Audit(q.r.Context(), keystore.AuditQuery{Target: target, After: cursor, Limit: limit})
	if err != nil {
		q.storeFail("audit", err)
		return
	}
	out := auditPage{Entries: make([]auditView, 0, len(page.Entries)), NextCursor: optionalCursor(page.Next)}
	for _, e := range page.Entries {
		out.Entries = append(out.Entries, viewAudit(e))
	}
	q.respond(http.StatusOK, out)
}
