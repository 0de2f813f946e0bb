package adminapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
)

// readBody reads the request body, at most h.MaxBodyBytes of it. A
// non-empty body must be declared as JSON.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *authn.Failure) {
	if r.ContentLength > h.MaxBodyBytes {
		return nil, errTooLarge(h.MaxBodyBytes)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errTooLarge(h.MaxBodyBytes)
		}
		return nil, errInvalid("the request body could not be read")
	}
	if len(body) > 0 && !isJSON(r.Header.Get("Content-Type")) {
		return nil, errUnsupportedMediaType()
	}
	return body, nil
}

func errTooLarge(limit int64) *authn.Failure {
	return errInvalid(fmt.Sprintf("the request body is larger than %d bytes", limit))
}

// isJSON reports whether contentType is application/json, in UTF-8.
func isJSON(contentType string) bool {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "application/json" {
		return false
	}
	charset, ok := params["charset"]
	return !ok || strings.EqualFold(charset, "utf-8")
}

// decodeJSON decodes body, one JSON object, into dst. Unknown fields,
// trailing data and values of the wrong type are refused with a message
// that names the field and never echoes Go types.
func decodeJSON(body []byte, dst any) *authn.Failure {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonFailure(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errInvalid("the request body must hold a single JSON object")
	}
	return nil
}

// jsonFailure describes a decoding error to the caller.
func jsonFailure(err error) *authn.Failure {
	var (
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
		fieldErr *fieldError
	)
	switch {
	case errors.Is(err, io.EOF):
		return errInvalid("the request body is empty; a JSON object is required")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return errInvalid("the request body is not valid JSON")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return errInvalid("the request body must be a JSON object")
		}
		return errInvalid(fmt.Sprintf("%s: a JSON %s is not allowed here", typ.Field, typ.Value))
	case errors.As(err, &fieldErr):
		return errInvalid(fieldErr.Error())
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return errInvalid("unknown field " + field)
	}
	return errInvalid("the request body could not be decoded")
}

// parseExpiry parses an expiry given as an RFC 3339 date-time. Whether it
// lies in the future is the store's check.
func parseExpiry(s string) (time.Time, *authn.Failure) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errInvalid("expires_at must be an RFC 3339 date-time, e.g. 2030-01-31T00:00:00Z")
	}
	return t.UTC(), nil
}

// fieldError is a value refused while decoding one field.
type fieldError struct {
	field, problem string
}

func (e *fieldError) Error() string { return e.field + ": " + e.problem }

// optional is a field of a partial update that distinguishes "absent"
// (Set false) from an explicit null (Set and Null true).
type optional[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// UnmarshalJSON implements json.Unmarshaler; encoding/json calls it only
// for fields present in the object, null included.
func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}
