package adminapi

import (
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

// updateRequest is the body of PATCH {base}/clients/{id}, a JSON merge
// patch of the client's attributes: absent fields stay as they are, null
// clears expires_at and metadata.
type updateRequest struct {
	Name      optional[string]            `json:"name"`
	Scopes    optional[[]string]          `json:"scopes"`
	ExpiresAt optional[string]            `json:"expires_at"`
	Metadata  optional[map[string]string] `json:"metadata"`
}

// update answers PATCH {base}/clients/{id}.
func (q *request) update() {
	u, changed, f := q.clientUpdate()
	if f != nil {
		q.fail(f)
		return
	}
	c, err := q.h.store.Update(q.changeContext(), q.id, u)
	if err != nil {
		q.storeFail("update", err)
		return
	}
	q.logChange("updated", c.ID, zap.String("fields", strings.Join(changed, ",")))
	q.respond(http.StatusOK, viewClient(c, time.Now()))
}

// clientUpdate reads the patch and names the fields it changes. The store
// checks the values themselves.
func (q *request) clientUpdate() (keystore.ClientUpdate, []string, *authn.Failure) {
	var u keystore.ClientUpdate
	body, f := q.h.readBody(q.w, q.r)
	if f != nil {
		return u, nil, f
	}
	var in updateRequest
	if f := decodeJSON(body, &in); f != nil {
		return u, nil, f
	}
	var changed []string
	if in.Name.Set {
		if in.Name.Null {
			return u, nil, errInvalid("name cannot be null")
		}
		u.Name = &in.Name.Value
		changed = append(changed, "name")
	}
	if in.Scopes.Set {
		if in.Scopes.Null {
			return u, nil, errInvalid("scopes cannot be null; send [] for no scopes")
		}
		scopes := in.Scopes.Value
		if scopes == nil {
			scopes = []string{}
		}
		u.Scopes = &scopes
		changed = append(changed, "scopes")
	}
	if in.ExpiresAt.Set {
		var t time.Time // null: no expiry
		if !in.ExpiresAt.Null {
			if t, f = parseExpiry(in.ExpiresAt.Value); f != nil {
				return u, nil, f
			}
		}
		u.ExpiresAt = &t
		changed = append(changed, "expires_at")
	}
	if in.Metadata.Set {
		m := in.Metadata.Value
		if m == nil { // null: no metadata
			m = map[string]string{}
		}
		u.Metadata = &m
		changed = append(changed, "metadata")
	}
	if len(changed) == 0 {
		return u, nil, errInvalid("the patch changes nothing; send at least one of name, scopes, expires_at, metadata")
	}
	return u, changed, nil
}
