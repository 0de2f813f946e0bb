package adminapi

import (
	"bytes"
	"context"
	_ "embed"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

//go:embed openapi.yaml
var openAPIDocument []byte

// specChecker validates exchanges with the handler against openapi.yaml
// and records which documented operations were exercised.
type specChecker struct {
	doc    *openapi3.T
	router routers.Router
	mu     sync.Mutex
	seen   map[string]bool // operation ids answered with a documented success
}

func newSpecChecker(t *testing.T) *specChecker {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPIDocument)
	if err != nil {
		t.Fatalf("loading openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI 3 document: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("routing openapi.yaml: %v", err)
	}
	return &specChecker{doc: doc, router: router, seen: map[string]bool{}}
}

// check validates one exchange: the request (unless c is deliberately
// invalid) and always the response, whose status must be documented.
func (s *specChecker) check(t *testing.T, c call, sent *http.Request, resp *response) {
	t.Helper()
	req := httptest.NewRequest(sent.Method, sent.URL.RequestURI(), strings.NewReader(c.body))
	req.Header = sent.Header.Clone()
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		if resp.status != http.StatusTeapot && resp.status != http.StatusNotFound && resp.status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s is not in openapi.yaml but the handler answered %d", c.method, c.path, resp.status)
		}
		return
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		MultiError:            true,
	}
	input := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if !c.invalid {
		if err := openapi3filter.ValidateRequest(context.Background(), input); err != nil {
			t.Errorf("%s %s: request does not match openapi.yaml: %v", c.method, c.path, err)
		}
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input,
		Status:                 resp.status,
		Header:                 resp.header,
		Body:                   io.NopCloser(bytes.NewReader(resp.body)),
		Options:                opts,
	})
	if err != nil {
		t.Errorf("%s %s: %d response does not match openapi.yaml: %v\nbody: %s", c.method, c.path, resp.status, err, resp.body)
	}
	if resp.status < 300 && !c.invalid {
		s.mu.Lock()
		s.seen[route.Operation.OperationID] = true
		s.mu.Unlock()
	}
}

// operations lists the documented operation ids.
func (s *specChecker) operations() []string {
	var ids []string
	for _, item := range s.doc.Paths.Map() {
		for _, op := range item.Operations() {
			ids = append(ids, op.OperationID)
		}
	}
	sort.Strings(ids)
	return ids
}

// examplePaths gives, for each resource of the handler's route table, a
// path that addresses it. The test fails if the table gains a resource
// that is missing here, so every route of the handler gets checked.
var examplePaths = map[resource]string{
	resourceClients: "/admin/api/v1/clients",
	resourceClient:  "/admin/api/v1/clients/cl_01J9ZK3Q4V6T8W0Y2A4C6E8G0J",
	resourceRotate:  "/admin/api/v1/clients/cl_01J9ZK3Q4V6T8W0Y2A4C6E8G0J/rotate-secret",
	resourceDisable: "/admin/api/v1/clients/cl_01J9ZK3Q4V6T8W0Y2A4C6E8G0J/disable",
	resourceEnable:  "/admin/api/v1/clients/cl_01J9ZK3Q4V6T8W0Y2A4C6E8G0J/enable",
	resourceAudit:   "/admin/api/v1/audit",
}

// TestRoutesMatchOpenAPI: every route the handler answers is documented,
// and every documented operation is a route of the handler.
func TestRoutesMatchOpenAPI(t *testing.T) {
	s := newSpecChecker(t)
	h := &Handler{BasePath: DefaultBasePath}
	documented := map[string]bool{}
	for res, ms := range methods {
		path, ok := examplePaths[res]
		if !ok {
			t.Fatalf("resource %d has no example path in this test", res)
		}
		if rt, ok := h.match(path); !ok || rt.resource != res {
			t.Fatalf("example path %s does not match resource %d", path, res)
		}
		for _, m := range ms {
			route, _, err := s.router.FindRoute(httptest.NewRequest(m, path, nil))
			if err != nil {
				t.Errorf("the handler answers %s %s, which openapi.yaml does not document", m, path)
				continue
			}
			documented[route.Operation.OperationID] = true
		}
	}
	for _, id := range s.operations() {
		if !documented[id] {
			t.Errorf("openapi.yaml documents %s, which the handler does not answer", id)
		}
	}
}

// TestResponsesMatchOpenAPI drives every documented operation with valid
// requests and a range of refusals, validating each request and answer
// against openapi.yaml, and fails if an operation was never exercised.
func TestResponsesMatchOpenAPI(t *testing.T) {
	a := newTestAPI(t, Handler{})
	a.spec = newSpecChecker(t)

	created := a.createClient("till 1", "pos.read")
	a.must(http.StatusCreated, call{method: "POST", path: clientsPath,
		header: map[string]string{"Idempotency-Key": "0f5b8f5e-1f7e-4c1a-9c55-0c1d2e3f4a5b"},
		body:   `{"name": "till 2", "scopes": ["pos.read"], "expires_at": "2099-01-01T00:00:00Z", "metadata": {"store": "12"}}`})
	a.must(http.StatusCreated, call{method: "POST", path: clientsPath,
		header: map[string]string{"Idempotency-Key": "0f5b8f5e-1f7e-4c1a-9c55-0c1d2e3f4a5b"},
		body:   `{"name": "till 2", "scopes": ["pos.read"], "expires_at": "2099-01-01T00:00:00Z", "metadata": {"store": "12"}}`})
	p := clientsPath + "/" + created.ID
	a.must(http.StatusOK, call{method: "GET", path: clientsPath + "?limit=1&status=active"})
	a.must(http.StatusOK, call{method: "GET", path: p})
	a.must(http.StatusOK, call{method: "PATCH", path: p, body: `{"name": "till 1b", "expires_at": null, "metadata": null}`})
	a.must(http.StatusOK, call{method: "POST", path: p + "/rotate-secret", body: `{"grace_period_seconds": 600}`})
	a.must(http.StatusOK, call{method: "GET", path: p})
	a.must(http.StatusOK, call{method: "POST", path: p + "/rotate-secret"})
	a.must(http.StatusOK, call{method: "POST", path: p + "/disable"})
	a.must(http.StatusOK, call{method: "POST", path: p + "/enable"})
	a.must(http.StatusOK, call{method: "GET", path: "/admin/api/v1/audit?limit=2&target=" + created.ID})
	a.must(http.StatusNoContent, call{method: "DELETE", path: p})

	// Refusals: their answers must be documented too.
	a.must(http.StatusNotFound, call{method: "GET", path: p})
	a.must(http.StatusUnauthorized, call{as: "anonymous", method: "GET", path: clientsPath})
	a.must(http.StatusForbidden, call{as: "reader", method: "POST", path: clientsPath, body: `{"name": "x", "scopes": []}`})
	a.must(http.StatusBadRequest, call{method: "POST", path: clientsPath, body: `{"name": "x"}`, invalid: true})
	a.must(http.StatusUnsupportedMediaType, call{method: "POST", path: clientsPath, body: `name=x`, contentType: "text/plain", invalid: true})
	a.must(http.StatusMethodNotAllowed, call{method: "PUT", path: clientsPath, invalid: true})
	a.must(http.StatusBadRequest, call{method: "GET", path: "/admin/api/v1/audit?limit=9999", invalid: true})

	for _, id := range a.spec.operations() {
		if !a.spec.seen[id] {
			t.Errorf("operation %s was never exercised", id)
		}
	}
}
