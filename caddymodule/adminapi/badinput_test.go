package adminapi

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestBadInputChangesNothing sends malformed and refused requests; each
// gets its documented status and error code, and the store (clients and
// audit log) is exactly as before.
func TestBadInputChangesNothing(t *testing.T) {
	a := newTestAPI(t, Handler{MaxBodyBytes: 1024})
	c := a.createClient("till", "pos.read")
	a.must(http.StatusOK, call{method: "POST", path: clientsPath + "/" + c.ID + "/disable"})
	clientPath := clientsPath + "/" + c.ID
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	huge := `{"name": "` + strings.Repeat("x", 2000) + `", "scopes": []}`

	cases := []struct {
		name   string
		call   call
		status int
		code   string
	}{
		{"create: no body", call{method: "POST", path: clientsPath, contentType: "application/json"}, 400, "invalid_request"},
		{"create: not JSON", call{method: "POST", path: clientsPath, body: `{"name": `}, 400, "invalid_request"},
		{"create: array", call{method: "POST", path: clientsPath, body: `["till"]`}, 400, "invalid_request"},
		{"create: two objects", call{method: "POST", path: clientsPath, body: `{"name": "a", "scopes": []} {}`}, 400, "invalid_request"},
		{"create: unknown field", call{method: "POST", path: clientsPath, body: `{"name": "a", "scopes": [], "api_key": "rsa_live_x"}`}, 400, "invalid_request"},
		{"create: no name", call{method: "POST", path: clientsPath, body: `{"scopes": []}`}, 400, "invalid_request"},
		{"create: empty name", call{method: "POST", path: clientsPath, body: `{"name": "", "scopes": []}`}, 400, "invalid_request"},
		{"create: control character in name", call{method: "POST", path: clientsPath, body: `{"name": "a\u0007b", "scopes": []}`}, 400, "invalid_request"},
		{"create: name too long", call{method: "POST", path: clientsPath, body: `{"name": "` + strings.Repeat("é", 201) + `", "scopes": []}`}, 400, "invalid_request"},
		{"create: no scopes", call{method: "POST", path: clientsPath, body: `{"name": "a"}`}, 400, "invalid_request"},
		{"create: scopes not a list", call{method: "POST", path: clientsPath, body: `{"name": "a", "scopes": "pos.read"}`}, 400, "invalid_request"},
		{"create: scope with a space", call{method: "POST", path: clientsPath, body: `{"name": "a", "scopes": ["pos read"]}`}, 400, "invalid_request"},
		{"create: repeated scope", call{method: "POST", path: clientsPath, body: `{"name": "a", "scopes": ["x", "x"]}`}, 400, "invalid_request"},
		{"create: number as name", call{method: "POST", path: clientsPath, body: `{"name": 7, "scopes": []}`}, 400, "invalid_request"},
		{"create: expiry in the past", call{method: "POST", path: clientsPath, body: `{"name": "a", "scopes": [], "expires_at": "` + past + `"}`}, 400, "invalid_request"},
		{"create: expiry not RFC 3339", call{method: "POST", path: clientsPath, body: `{"name": "a", "scopes": [], "expires_at": "tomorrow"}`}, 400, "invalid_request"},
		{"create: metadata not strings", call{method: "POST", path: clientsPath, body: `{"name": "a", "scopes": [], "metadata": {"n": 1}}`}, 400, "invalid_request"},
		{"create: body over the limit", call{method: "POST", path: clientsPath, body: huge}, 400, "invalid_request"},
		{"create: form body", call{method: "POST", path: clientsPath, body: "name=a", contentType: "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"create: no content type", call{method: "POST", path: clientsPath, body: `{"name": "a", "scopes": []}`, contentType: " "}, 415, "unsupported_media_type"},
		{"create: latin-1 JSON", call{method: "POST", path: clientsPath, body: `{"name": "a", "scopes": []}`, contentType: "application/json; charset=iso-8859-1"}, 415, "unsupported_media_type"},
		{"create: short idempotency key", call{method: "POST", path: clientsPath, body: `{"name": "a", "scopes": []}`, header: map[string]string{"Idempotency-Key": "abc"}}, 400, "invalid_request"},
		{"patch: empty object", call{method: "PATCH", path: clientPath, body: `{}`}, 400, "invalid_request"},
		{"patch: null name", call{method: "PATCH", path: clientPath, body: `{"name": null}`}, 400, "invalid_request"},
		{"patch: null scopes", call{method: "PATCH", path: clientPath, body: `{"scopes": null}`}, 400, "invalid_request"},
		{"patch: unknown field", call{method: "PATCH", path: clientPath, body: `{"status": "active"}`}, 400, "invalid_request"},
		{"patch: key hash", call{method: "PATCH", path: clientPath, body: `{"name": "b", "key": {"hash": "AA=="}}`}, 400, "invalid_request"},
		{"patch: expiry in the past", call{method: "PATCH", path: clientPath, body: `{"expires_at": "` + past + `"}`}, 400, "invalid_request"},
		{"patch: unknown id", call{method: "PATCH", path: clientsPath + "/cl_00000000000000000000000000", body: `{"name": "b"}`}, 404, "not_found"},
		{"patch: text body", call{method: "PATCH", path: clientPath, body: `{"name": "b"}`, contentType: "text/plain"}, 415, "unsupported_media_type"},
		{"rotate: negative grace", call{method: "POST", path: clientPath + "/rotate-secret", body: `{"grace_period_seconds": -1}`}, 400, "invalid_request"},
		{"rotate: grace over 30 days", call{method: "POST", path: clientPath + "/rotate-secret", body: `{"grace_period_seconds": 2592001}`}, 400, "invalid_request"},
		{"rotate: fractional grace", call{method: "POST", path: clientPath + "/rotate-secret", body: `{"grace_period_seconds": 1.5}`}, 400, "invalid_request"},
		{"rotate: grace as string", call{method: "POST", path: clientPath + "/rotate-secret", body: `{"grace_period_seconds": "60"}`}, 400, "invalid_request"},
		{"rotate: unknown field", call{method: "POST", path: clientPath + "/rotate-secret", body: `{"grace": 60}`}, 400, "invalid_request"},
		{"rotate: unknown id", call{method: "POST", path: clientsPath + "/cl_00000000000000000000000000/rotate-secret"}, 404, "not_found"},
		{"rotate: malformed id", call{method: "POST", path: clientsPath + "/..%2f..%2fetc/rotate-secret"}, 404, "not_found"},
		{"enable: a body", call{method: "POST", path: clientPath + "/enable", body: `{"status": "active"}`}, 400, "invalid_request"},
		{"delete: unknown id", call{method: "DELETE", path: clientsPath + "/cl_00000000000000000000000000"}, 404, "not_found"},
		{"delete: a body", call{method: "DELETE", path: clientPath, body: `{"force": true}`}, 400, "invalid_request"},
		{"get: id too long", call{method: "GET", path: clientsPath + "/" + strings.Repeat("a", 65)}, 404, "not_found"},
		{"unknown action", call{method: "POST", path: clientPath + "/reveal-secret"}, 404, "not_found"},
		{"list: bad status", call{method: "GET", path: clientsPath + "?status=deleted"}, 400, "invalid_request"},
		{"list: limit 0", call{method: "GET", path: clientsPath + "?limit=0"}, 400, "invalid_request"},
		{"list: limit too big", call{method: "GET", path: clientsPath + "?limit=501"}, 400, "invalid_request"},
		{"list: forged cursor", call{method: "GET", path: clientsPath + "?cursor=bm90LWFuLWlk"}, 400, "invalid_request"},
		{"list: misspelt filter", call{method: "GET", path: clientsPath + "?stauts=active"}, 400, "invalid_request"},
		{"list: repeated limit", call{method: "GET", path: clientsPath + "?limit=1&limit=2"}, 400, "invalid_request"},
		{"audit: malformed target", call{method: "GET", path: "/admin/api/v1/audit?target=a%20b"}, 400, "invalid_request"},
		{"PUT on a client", call{method: "PUT", path: clientPath, body: `{"name": "b", "scopes": []}`}, 405, "method_not_allowed"},
		{"DELETE on the list", call{method: "DELETE", path: clientsPath}, 405, "method_not_allowed"},
		{"GET on rotate", call{method: "GET", path: clientPath + "/rotate-secret"}, 405, "method_not_allowed"},
		{"POST on the audit log", call{method: "POST", path: "/admin/api/v1/audit", body: `{}`}, 405, "method_not_allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := a.snapshot()
			tc.call.invalid = true
			r := a.do(tc.call)
			var e apiError
			r.decode(t, &e)
			if r.status != tc.status || e.Error != tc.code || e.Description == "" {
				t.Errorf("got %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
			if r.status == http.StatusMethodNotAllowed && r.header.Get("Allow") == "" {
				t.Errorf("405 without Allow")
			}
			if strings.Contains(e.Description, "Go struct") || strings.Contains(e.Description, "json:") {
				t.Errorf("description leaks decoder internals: %q", e.Description)
			}
			if after := a.snapshot(); !reflect.DeepEqual(before, after) {
				t.Errorf("the store changed:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}
