package adminapi

import (
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

// createRequest is the body of POST {base}/clients. Pointers tell absent
// required fields from empty ones.
type createRequest struct {
	Name      *string           `json:"name"`
	Scopes    *[]string         `json:"scopes"`
	ExpiresAt *string           `json:"expires_at"`
	Metadata  map[string]string `json:"metadata"`
}

// create answers POST {base}/clients: a new client and, this once, its
// plaintext key.
func (q *request) create() {
	idemKey, f := idempotencyKey(q.r.Header)
	if f != nil {
		q.fail(f)
		return
	}
	nc, f := q.newClient()
	if f != nil {
		q.fail(f)
		return
	}
	if idemKey != "" {
		nc.Idempotency = &keystore.Idempotency{Key: idemKey, Fingerprint: createFingerprint(nc)}
	}
	c, key, replayed, err := q.h.store.Create(q.changeContext(), nc)
	if err != nil {
		q.storeFail("create", err)
		return
	}
	if replayed {
		q.w.Header().Set(headerReplayed, "true")
		q.logChange("create replayed", c.ID)
	} else {
		q.logChange("created", c.ID, zap.String("key_prefix", c.Key.Prefix))
	}
	q.w.Header().Set("Location", q.clientURL(c.ID))
	q.respond(http.StatusCreated, issuedView{clientView: viewClient(c, time.Now()), APIKey: key})
}

// newClient reads the create request's body. The store checks the values
// themselves (lengths, scope syntax, expiry in the future).
func (q *request) newClient() (keystore.NewClient, *authn.Failure) {
	body, f := q.h.readBody(q.w, q.r)
	if f != nil {
		return keystore.NewClient{}, f
	}
	var in createRequest
	if f := decodeJSON(body, &in); f != nil {
		return keystore.NewClient{}, f
	}
	if in.Name == nil {
		return keystore.NewClient{}, errInvalid("name is required")
	}
	if in.Scopes == nil {
		return keystore.NewClient{}, errInvalid("scopes is required (it may be an empty list)")
	}
	nc := keystore.NewClient{Name: *in.Name, Scopes: *in.Scopes}
	if len(in.Metadata) > 0 {
		nc.Metadata = in.Metadata
	}
	if in.ExpiresAt != nil {
		t, f := parseExpiry(*in.ExpiresAt)
		if f != nil {
			return keystore.NewClient{}, f
		}
		nc.ExpiresAt = t
	}
	return nc, nil
}
