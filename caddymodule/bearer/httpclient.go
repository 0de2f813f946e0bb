package bearer

import (
	"errors"
	"io"
	"net/http"
	"time"
)

// maxIssuerResponseBytes bounds what the track reads from an issuer's
// discovery document or JWKS; real ones are a few kilobytes.
const maxIssuerResponseBytes = 1 << 20

var errIssuerResponseTooLarge = errors.New("issuer response larger than 1 MiB")

// newIssuerClient returns the HTTP client used for discovery and JWKS
// fetches: its own transport (so closing idle connections on shutdown
// leaves no goroutine behind), a timeout per request, and a cap on
// response size.
func newIssuerClient(timeout time.Duration) (*http.Client, *http.Transport) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 2
	client := &http.Client{
		Timeout:   timeout,
		Transport: limitedTransport{transport},
	}
	return client, transport
}

// limitedTransport fails a response body once it exceeds
// maxIssuerResponseBytes, instead of silently truncating it.
type limitedTransport struct {
	next http.RoundTripper
}

func (t limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{body: resp.Body, left: maxIssuerResponseBytes}
	return resp, nil
}

type limitedBody struct {
	body io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errIssuerResponseTooLarge
	}
	// Read one byte beyond the limit to tell "exactly the limit" from "more".
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.body.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, errIssuerResponseTooLarge
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.body.Close() }
