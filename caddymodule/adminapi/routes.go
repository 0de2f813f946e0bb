package adminapi

import (
	"net/http"
	"slices"
	"strings"
)

// resource names what a request path addresses within the API.
type resource int

const (
	// resourceUnknown is a path inside the API's namespace that names
	// nothing, such as a malformed id or an unknown action: 404.
	resourceUnknown resource = iota
	resourceClients
	resourceClient
	resourceRotate
	resourceDisable
	resourceEnable
	resourceAudit
)

// route is a matched request path.
type route struct {
	resource resource
	// id is the client id named in the path, if any.
	id string
}

// Client actions addressed as POST {base}/clients/{id}/{action}.
var actions = map[string]resource{
	"rotate-secret": resourceRotate,
	"disable":       resourceDisable,
	"enable":        resourceEnable,
}

// match maps a request path to the API resource it addresses. It reports
// false for paths outside {base}/clients and {base}/audit, which belong to
// the next handler.
func (h *Handler) match(path string) (route, bool) {
	rest, ok := strings.CutPrefix(path, h.BasePath)
	if !ok {
		return route{}, false
	}
	switch {
	case rest == "/audit":
		return route{resource: resourceAudit}, true
	case strings.HasPrefix(rest, "/audit/"):
		return route{resource: resourceUnknown}, true
	case rest == "/clients":
		return route{resource: resourceClients}, true
	case !strings.HasPrefix(rest, "/clients/"):
		return route{}, false
	}
	id, action, hasAction := strings.Cut(strings.TrimPrefix(rest, "/clients/"), "/")
	if !validID(id) {
		return route{resource: resourceUnknown}, true
	}
	if !hasAction {
		return route{resource: resourceClient, id: id}, true
	}
	if res, ok := actions[action]; ok {
		return route{resource: res, id: id}, true
	}
	return route{resource: resourceUnknown}, true
}

// maxIDLength bounds a client id in a path; store ids are far shorter.
const maxIDLength = 64

// validID reports whether s can be a client id at all: a short run of
// URL-safe characters. Anything else cannot name a client (404) and never
// reaches the store.
func validID(s string) bool {
	if s == "" || len(s) > maxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// methods lists the methods each resource answers, in the order the Allow
// header names them.
var methods = map[resource][]string{
	resourceClients: {http.MethodGet, http.MethodPost},
	resourceClient:  {http.MethodGet, http.MethodPatch, http.MethodDelete},
	resourceRotate:  {http.MethodPost},
	resourceDisable: {http.MethodPost},
	resourceEnable:  {http.MethodPost},
	resourceAudit:   {http.MethodGet},
}

// allows reports whether res answers method.
func allows(res resource, method string) bool {
	return slices.Contains(methods[res], method)
}
