package adminapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

const clientsPath = "/admin/api/v1/clients"

// TestClientLifecycle walks one client through every endpoint and checks
// what each answer shows, and what it must never show.
func TestClientLifecycle(t *testing.T) {
	a := newTestAPI(t, Handler{})
	expires := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)

	// Create: 201, Location, the key once.
	r := a.must(http.StatusCreated, call{method: "POST", path: clientsPath, body: jsonBody(map[string]any{
		"name": "POS terminal 7", "scopes": []string{"pos.read", "pos.write"},
		"expires_at": expires.Format(time.RFC3339), "metadata": map[string]string{"store": "0042"},
	})})
	var created issued
	r.decode(t, &created)
	if got, want := r.header.Get("Location"), clientsPath+"/"+created.ID; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", r.header.Get("Cache-Control"))
	}
	if !strings.HasPrefix(created.APIKey, "rsa_live_") || !strings.HasPrefix(created.APIKey, created.KeyPrefix) || created.KeyPrefix == created.APIKey {
		t.Errorf("api_key %q / key_prefix %q: want a rsa_live_ key starting with its display prefix", created.APIKey, created.KeyPrefix)
	}
	if created.Name != "POS terminal 7" || created.Status != keystore.StatusActive || len(created.Scopes) != 2 ||
		created.ExpiresAt == nil || !created.ExpiresAt.Equal(expires) || created.Metadata["store"] != "0042" ||
		created.LastUsedAt != nil || created.PendingRotation != nil {
		t.Errorf("created client = %+v", created.clientView)
	}
	if c, slot, err := a.h.store.Lookup(context.Background(), keystore.HashKey(created.APIKey)); err != nil || c.ID != created.ID || slot != keystore.SlotCurrent {
		t.Fatalf("the issued key does not find its client in the store: %v", err)
	}

	// Reads never carry a key.
	clientPath := clientsPath + "/" + created.ID
	get := a.must(http.StatusOK, call{method: "GET", path: clientPath, as: "reader"})
	list := a.must(http.StatusOK, call{method: "GET", path: clientsPath, as: "reader"})
	for _, r := range []*response{get, list} {
		if strings.Contains(string(r.body), created.APIKey) || strings.Contains(string(r.body), "api_key") {
			t.Errorf("a read shows the key: %s", r.body)
		}
	}
	var got clientView
	get.decode(t, &got)
	if got.ID != created.ID || got.KeyPrefix != created.KeyPrefix {
		t.Errorf("GET shows %+v", got)
	}
	var page clientPage
	list.decode(t, &page)
	if len(page.Clients) != 1 || page.Clients[0].ID != created.ID || page.NextCursor != nil {
		t.Errorf("list = %s", list.body)
	}

	// Patch: name and scopes change, null clears the expiry.
	var patched clientView
	a.must(http.StatusOK, call{method: "PATCH", path: clientPath,
		body: `{"name": "POS terminal 7b", "scopes": ["pos.read"], "expires_at": null}`}).decode(t, &patched)
	if patched.Name != "POS terminal 7b" || len(patched.Scopes) != 1 || patched.ExpiresAt != nil || patched.Metadata["store"] != "0042" {
		t.Errorf("patched = %+v", patched)
	}

	// Rotate with a grace period: both keys work, the old one until then.
	var rotated issued
	a.must(http.StatusOK, call{method: "POST", path: clientPath + "/rotate-secret",
		body: `{"grace_period_seconds": 3600}`}).decode(t, &rotated)
	if rotated.APIKey == "" || rotated.APIKey == created.APIKey || rotated.KeyPrefix == created.KeyPrefix {
		t.Fatalf("rotation issued %q (prefix %q)", rotated.APIKey, rotated.KeyPrefix)
	}
	pr := rotated.PendingRotation
	if pr == nil || pr.RetiringKeyPrefix != created.KeyPrefix || pr.RetiringUntil.Sub(time.Now()) < 59*time.Minute || pr.RetiringUntil.Sub(time.Now()) > time.Hour {
		t.Errorf("pending_rotation = %+v", pr)
	}
	if _, slot, err := a.h.store.Lookup(context.Background(), keystore.HashKey(created.APIKey)); err != nil || slot != keystore.SlotRetiring {
		t.Errorf("old key during grace: slot %v, err %v", slot, err)
	}
	a.must(http.StatusOK, call{method: "GET", path: clientPath}).decode(t, &got)
	if got.PendingRotation == nil || got.PendingRotation.RetiringKeyPrefix != created.KeyPrefix {
		t.Errorf("GET after rotation shows pending_rotation %+v", got.PendingRotation)
	}

	// Rotate without a body: the default grace (0) drops both old keys.
	var rotatedAgain issued
	a.must(http.StatusOK, call{method: "POST", path: clientPath + "/rotate-secret"}).decode(t, &rotatedAgain)
	if rotatedAgain.PendingRotation != nil {
		t.Errorf("rotation without grace left pending_rotation %+v", rotatedAgain.PendingRotation)
	}
	for _, old := range []string{created.APIKey, rotated.APIKey} {
		if _, _, err := a.h.store.Lookup(context.Background(), keystore.HashKey(old)); err == nil {
			t.Errorf("key %s... still found after a rotation without grace", old[:12])
		}
	}

	// Disable, enable (with an empty JSON object as body), delete.
	var disabled, enabled clientView
	a.must(http.StatusOK, call{method: "POST", path: clientPath + "/disable"}).decode(t, &disabled)
	a.must(http.StatusOK, call{method: "POST", path: clientPath + "/enable", body: "{}"}).decode(t, &enabled)
	if disabled.Status != keystore.StatusDisabled || enabled.Status != keystore.StatusActive {
		t.Errorf("statuses after disable, enable: %s, %s", disabled.Status, enabled.Status)
	}
	var activeOnly, disabledOnly clientPage
	a.must(http.StatusOK, call{method: "GET", path: clientsPath + "?status=active"}).decode(t, &activeOnly)
	a.must(http.StatusOK, call{method: "GET", path: clientsPath + "?status=disabled"}).decode(t, &disabledOnly)
	if len(activeOnly.Clients) != 1 || len(disabledOnly.Clients) != 0 {
		t.Errorf("status filter: %d active, %d disabled", len(activeOnly.Clients), len(disabledOnly.Clients))
	}
	del := a.must(http.StatusNoContent, call{method: "DELETE", path: clientPath})
	if len(del.body) != 0 {
		t.Errorf("DELETE answered a body: %s", del.body)
	}
	a.must(http.StatusNotFound, call{method: "GET", path: clientPath})
	if _, _, err := a.h.store.Lookup(context.Background(), keystore.HashKey(rotatedAgain.APIKey)); err == nil {
		t.Errorf("key of a deleted client still found")
	}

	// The audit log has every change, newest first, by the caller.
	var audit auditPage
	a.must(http.StatusOK, call{method: "GET", path: "/admin/api/v1/audit?target=" + created.ID, as: "reader"}).decode(t, &audit)
	var actions []string
	for _, e := range audit.Entries {
		actions = append(actions, e.Action)
		if e.Actor.Subject != "alice" || e.Actor.ClientID != "ops-console" || e.Actor.RemoteAddr != "127.0.0.1" || e.Target != created.ID {
			t.Errorf("audit entry %+v: want actor alice/ops-console from 127.0.0.1 on %s", e, created.ID)
		}
	}
	if got, want := strings.Join(actions, ","), "delete,enable,disable,rotate,rotate,update,create"; got != want {
		t.Errorf("audit actions = %s, want %s", got, want)
	}
	if d := audit.Entries[4].Detail; d["grace_period_seconds"] != "3600" {
		t.Errorf("rotation audit detail = %v", d)
	}

	// Neither the audit log nor the handler's log holds a key.
	auditAll := a.must(http.StatusOK, call{method: "GET", path: "/admin/api/v1/audit"})
	for _, key := range []string{created.APIKey, rotated.APIKey, rotatedAgain.APIKey} {
		if strings.Contains(string(auditAll.body), key[len(created.KeyPrefix):]) {
			t.Errorf("the audit log shows a key")
		}
		for _, e := range a.logs.All() {
			for _, v := range e.ContextMap() {
				if s, ok := v.(string); ok && strings.Contains(s, key[len(created.KeyPrefix):]) {
					t.Errorf("log entry %q holds a key", e.Message)
				}
			}
		}
	}
	if n := a.logs.FilterMessage("client created").Len(); n != 1 {
		t.Errorf("%d 'client created' log entries, want 1", n)
	}
}

// TestPaging pages through clients and the audit log with the cursor.
func TestPaging(t *testing.T) {
	a := newTestAPI(t, Handler{})
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, a.createClient("terminal", "pos.read").ID)
	}
	var seen []string
	path := clientsPath + "?limit=2"
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatalf("more pages than 5 clients at 2 per page need")
		}
		var p clientPage
		a.must(http.StatusOK, call{method: "GET", path: path}).decode(t, &p)
		for _, c := range p.Clients {
			seen = append(seen, c.ID)
		}
		if p.NextCursor == nil {
			break
		}
		path = clientsPath + "?limit=2&cursor=" + *p.NextCursor
	}
	if strings.Join(seen, ",") != strings.Join(ids, ",") {
		t.Errorf("paged ids %v, want creation order %v", seen, ids)
	}
	var audit auditPage
	a.must(http.StatusOK, call{method: "GET", path: "/admin/api/v1/audit?limit=3"}).decode(t, &audit)
	if len(audit.Entries) != 3 || audit.NextCursor == nil || audit.Entries[0].Target != ids[4] {
		t.Errorf("first audit page: %d entries, newest %s, next %v", len(audit.Entries), audit.Entries[0].Target, audit.NextCursor)
	}
}

// TestIdempotentCreate: a retry gets the first answer; a different body
// with the same key, or the same key after a rotation, is a conflict; a
// different caller's identical key is a different request.
func TestIdempotentCreate(t *testing.T) {
	a := newTestAPI(t, Handler{})
	key := map[string]string{"Idempotency-Key": "9b1d0c6e-4f43-4e56-9d7a-3f4ad1c0e6b2"}
	first := a.must(http.StatusCreated, call{method: "POST", path: clientsPath, header: key,
		body: `{"name": "till 1", "scopes": ["pos.read", "pos.write"], "metadata": {"a": "1", "b": "2"}}`})
	// The same request, formatted and ordered differently, with the key quoted.
	retry := a.must(http.StatusCreated, call{method: "POST", path: clientsPath,
		header: map[string]string{"Idempotency-Key": `"9b1d0c6e-4f43-4e56-9d7a-3f4ad1c0e6b2"`},
		body:   `{"metadata":{"b":"2","a":"1"},"scopes":["pos.read","pos.write"],"name":"till 1"}`})
	var c1, c2 issued
	first.decode(t, &c1)
	retry.decode(t, &c2)
	if c1.ID != c2.ID || c1.APIKey != c2.APIKey || c1.APIKey == "" {
		t.Errorf("retry got client %s key %t-equal, want the first answer", c2.ID, c1.APIKey == c2.APIKey)
	}
	if first.header.Get(headerReplayed) != "" || retry.header.Get(headerReplayed) != "true" {
		t.Errorf("Idempotent-Replayed: first %q, retry %q", first.header.Get(headerReplayed), retry.header.Get(headerReplayed))
	}
	if retry.header.Get("Location") != clientsPath+"/"+c1.ID {
		t.Errorf("retry Location = %q", retry.header.Get("Location"))
	}

	before := a.snapshot()
	var e apiError
	a.must(http.StatusConflict, call{method: "POST", path: clientsPath, header: key,
		body: `{"name": "till 2", "scopes": ["pos.read", "pos.write"], "metadata": {"a": "1", "b": "2"}}`}).decode(t, &e)
	if e.Error != "conflict" {
		t.Errorf("reused key with another body: error %q", e.Error)
	}
	if after := a.snapshot(); len(after.clients) != len(before.clients) || len(after.audit) != len(before.audit) {
		t.Errorf("a refused retry changed the store")
	}

	// Another admin sending the same Idempotency-Key gets a client of their own.
	var other issued
	a.must(http.StatusCreated, call{as: "other", method: "POST", path: clientsPath, header: key,
		body: `{"name": "till 1", "scopes": ["pos.read", "pos.write"], "metadata": {"a": "1", "b": "2"}}`}).decode(t, &other)
	if other.ID == c1.ID || other.APIKey == c1.APIKey {
		t.Errorf("another caller's request replayed the first caller's key")
	}

	// Once the key was rotated, replaying the create would hand out a dead key.
	a.must(http.StatusOK, call{method: "POST", path: clientsPath + "/" + c1.ID + "/rotate-secret"})
	a.must(http.StatusConflict, call{method: "POST", path: clientsPath, header: key,
		body: `{"name": "till 1", "scopes": ["pos.read", "pos.write"], "metadata": {"a": "1", "b": "2"}}`})
}

// TestAuthorization: no identity fails closed, and each operation needs
// its scope, refused with an RFC 6750 challenge naming it.
func TestAuthorization(t *testing.T) {
	a := newTestAPI(t, Handler{})
	c := a.createClient("till", "pos.read")
	before := a.snapshot()

	r := a.must(http.StatusUnauthorized, call{as: "anonymous", method: "GET", path: clientsPath})
	if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="gatehouse"` {
		t.Errorf("401 challenge = %q", got)
	}
	if a.logs.FilterMessageSnippet("without a verified identity").Len() == 0 {
		t.Errorf("a request without identity was not logged as a misconfiguration")
	}
	a.must(http.StatusUnauthorized, call{as: "anonymous", method: "DELETE", path: clientsPath + "/" + c.ID})

	writes := []call{
		{method: "POST", path: clientsPath, body: `{"name": "x", "scopes": []}`},
		{method: "PATCH", path: clientsPath + "/" + c.ID, body: `{"name": "y"}`},
		{method: "DELETE", path: clientsPath + "/" + c.ID},
		{method: "POST", path: clientsPath + "/" + c.ID + "/rotate-secret"},
		{method: "POST", path: clientsPath + "/" + c.ID + "/disable"},
		{method: "POST", path: clientsPath + "/" + c.ID + "/enable"},
	}
	for _, w := range writes {
		w.as = "reader"
		r := a.must(http.StatusForbidden, w)
		var e apiError
		r.decode(t, &e)
		want := `Bearer realm="gatehouse", error="insufficient_scope", error_description="this request needs the scope admin.write", scope="admin.write"`
		if e.Error != "insufficient_scope" || r.header.Get("WWW-Authenticate") != want {
			t.Errorf("%s %s as reader: %s, challenge %q", w.method, w.path, r.body, r.header.Get("WWW-Authenticate"))
		}
	}
	for _, path := range []string{clientsPath, clientsPath + "/" + c.ID, "/admin/api/v1/audit"} {
		r := a.must(http.StatusForbidden, call{as: "writer", method: "GET", path: path})
		if !strings.Contains(r.header.Get("WWW-Authenticate"), `scope="admin.read"`) {
			t.Errorf("GET %s as writer: challenge %q", path, r.header.Get("WWW-Authenticate"))
		}
	}
	if after := a.snapshot(); len(after.audit) != len(before.audit) || after.clients[0].Name != "till" {
		t.Errorf("refused requests changed the store")
	}
}

// TestPassThrough: paths outside the API go to the next handler untouched,
// whoever calls; paths inside it never do.
func TestPassThrough(t *testing.T) {
	a := newTestAPI(t, Handler{})
	for _, path := range []string{"/admin/api/v1/users", "/admin/api/v1/clientsx", "/admin/api/v2/clients", "/admin/api/v1", "/pos/api/v1/members", "/admin/api/v1/auditing"} {
		before := a.passed
		a.must(http.StatusTeapot, call{as: "anonymous", method: "POST", path: path, invalid: true})
		if a.passed != before+1 {
			t.Errorf("%s was not passed on", path)
		}
	}
	before := a.passed
	for _, path := range []string{clientsPath, clientsPath + "/", clientsPath + "/x/y", "/admin/api/v1/audit/x"} {
		if r := a.do(call{method: "GET", path: path, invalid: true}); r.status == http.StatusTeapot {
			t.Errorf("%s was passed on", path)
		}
	}
	if a.passed != before {
		t.Errorf("API paths reached the next handler")
	}
}

// TestConfiguredPaths: another base path, scope names and realm.
func TestConfiguredPaths(t *testing.T) {
	a := newTestAPI(t, Handler{BasePath: "/keys/", ReadScope: "admin.write", WriteScope: "admin.write", Realm: "admin"})
	a.must(http.StatusCreated, call{as: "writer", method: "POST", path: "/keys/clients", body: `{"name": "t", "scopes": []}`, invalid: true})
	a.must(http.StatusOK, call{as: "writer", method: "GET", path: "/keys/clients", invalid: true})
	r := a.must(http.StatusForbidden, call{as: "reader", method: "GET", path: "/keys/audit", invalid: true})
	if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Bearer realm="admin", error="insufficient_scope"`) {
		t.Errorf("challenge %q", got)
	}
	a.must(http.StatusTeapot, call{method: "GET", path: clientsPath, invalid: true})
}
