package adminapi

import (
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

// Error codes of the API's own refusals, in the style of RFC 6749's codes;
// authentication and scope refusals use authn's RFC 6750 codes.
const (
	codeInvalidRequest       = authn.CodeInvalidRequest
	codeNotFound             = "not_found"
	codeConflict             = "conflict"
	codeMethodNotAllowed     = "method_not_allowed"
	codeUnsupportedMediaType = "unsupported_media_type"
	codeServerError          = "server_error"
)

// Every refusal of the API is an *authn.Failure, so that it has the same
// {"error", "error_description"} shape as the gateway's own refusals.

func errInvalid(description string) *authn.Failure {
	return &authn.Failure{Status: http.StatusBadRequest, Code: codeInvalidRequest, Description: description, Reason: "invalid_request"}
}

func errNotFound(description string) *authn.Failure {
	return &authn.Failure{Status: http.StatusNotFound, Code: codeNotFound, Description: description, Reason: "not_found"}
}

func errConflict(description string) *authn.Failure {
	return &authn.Failure{Status: http.StatusConflict, Code: codeConflict, Description: description, Reason: "conflict"}
}

func errUnsupportedMediaType() *authn.Failure {
	return &authn.Failure{Status: http.StatusUnsupportedMediaType, Code: codeUnsupportedMediaType,
		Description: "request bodies must be JSON (Content-Type: application/json)", Reason: "unsupported_media_type"}
}

// writeError answers with f.
func writeError(w http.ResponseWriter, f *authn.Failure) {
	authn.WriteRefusal(w, f)
}

// storeFailure turns an error of the key store into the refusal the caller
// sees. Errors the caller cannot act on are logged and answered with a
// bare 500 or 503, never with their text.
func (h *Handler) storeFailure(op string, err error) *authn.Failure {
	switch {
	case errors.Is(err, keystore.ErrNotFound):
		return errNotFound("no client has this id")
	case errors.Is(err, keystore.ErrInvalid):
		// The store's validation messages describe the caller's own input.
		return errInvalid(err.Error())
	case errors.Is(err, keystore.ErrConflict):
		return errConflict(err.Error())
	case errors.Is(err, keystore.ErrLocked):
		h.logger.Error("key store unavailable", zap.String("operation", op), zap.Error(err))
		return authn.Unavailable("store_locked", "the key store is unavailable; retry later")
	default:
		h.logger.Error("key store failed", zap.String("operation", op), zap.Error(err))
		return &authn.Failure{Status: http.StatusInternalServerError, Code: codeServerError,
			Description: "the key store could not complete the request", Reason: "store_error"}
	}
}
