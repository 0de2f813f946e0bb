package authn

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// RetryAfterSeconds is the Retry-After sent with a 503 refusal.
const RetryAfterSeconds = 5

// WriteRefusal answers a refused request: f's status, the given
// WWW-Authenticate challenges, and the JSON body
// {"error": ..., "error_description": ...}. Responses are never cached.
func WriteRefusal(w http.ResponseWriter, f *Failure, challenges ...string) {
	h := w.Header()
	for _, c := range challenges {
		h.Add("WWW-Authenticate", c)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if f.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", strconv.Itoa(RetryAfterSeconds))
	}
	w.WriteHeader(f.Status)
	_ = json.NewEncoder(w).Encode(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{f.Code, f.Description})
}
