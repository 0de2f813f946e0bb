package adminapi

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

// maxCursorLength bounds a page cursor; the store's cursors are far shorter.
const maxCursorLength = 256

// parseQuery returns the query parameters, each at most once, refusing
// any not in allowed so that a misspelt filter is not silently ignored.
func parseQuery(u *url.URL, allowed ...string) (map[string]string, *authn.Failure) {
	values, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, errInvalid("the query string is malformed")
	}
	params := make(map[string]string, len(values))
	for name, vs := range values {
		known := false
		for _, a := range allowed {
			known = known || a == name
		}
		if !known {
			return nil, errInvalid(fmt.Sprintf("unknown query parameter %q", name))
		}
		if len(vs) != 1 {
			return nil, errInvalid(fmt.Sprintf("query parameter %q must be given once", name))
		}
		params[name] = vs[0]
	}
	return params, nil
}

// pageParams reads the limit and cursor parameters.
func pageParams(params map[string]string) (limit int, cursor string, f *authn.Failure) {
	limit = keystore.DefaultPageSize
	if s, ok := params["limit"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > keystore.MaxPageSize {
			return 0, "", errInvalid(fmt.Sprintf("limit must be an integer from 1 to %d", keystore.MaxPageSize))
		}
		limit = n
	}
	cursor = params["cursor"]
	if len(cursor) > maxCursorLength {
		return 0, "", errInvalid("cursor is not one this API returned")
	}
	return limit, cursor, nil
}
