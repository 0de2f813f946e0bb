package authserver

import (
	"encoding/json"
	"net/http"
)

// maxErrorBody is as much of an error answer as is read for its code;
// RFC 6749 error bodies are a few hundred bytes.
const maxErrorBody = 2 << 10

// countTokenErrors counts the token endpoint's error answers by grant type
// and error code. Errors come from op (a missing grant_type, an
// unsupported grant, a grant the client may not use) as well as from the
// provider, so the code is read where they all meet: in the answer's
// `error` member.
func countTokenErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Parsed here, op reuses the form instead of reading the body again.
		grant := grantLabel(r.PostFormValue("grant_type"))
		rec := &errorRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status < http.StatusBadRequest {
			return
		}
		var answer struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(rec.body, &answer)
		tokenErrors.WithLabelValues(grant, errorLabel(answer.Error)).Inc()
	})
}

// errorRecorder keeps the status of an answer and the start of its body
// when it is an error.
type errorRecorder struct {
	http.ResponseWriter
	status int
	body   []byte
}

func (e *errorRecorder) WriteHeader(status int) {
	if e.status == 0 {
		e.status = status
	}
	e.ResponseWriter.WriteHeader(status)
}

func (e *errorRecorder) Write(b []byte) (int, error) {
	if e.status == 0 {
		e.status = http.StatusOK
	}
	if e.status >= http.StatusBadRequest && len(e.body) < maxErrorBody {
		e.body = append(e.body, b[:min(len(b), maxErrorBody-len(e.body))]...)
	}
	return e.ResponseWriter.Write(b)
}

func (e *errorRecorder) Unwrap() http.ResponseWriter { return e.ResponseWriter }
