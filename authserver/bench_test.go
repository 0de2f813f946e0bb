package authserver_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Shape of the benchmark: requests in flight at once, and the chunk size
// at which HTTP issuance and bare signing take turns.
const (
	benchClients = 8
	benchChunk   = 100
)

// parallel runs n calls of fn on workers goroutines and returns the time taken.
func parallel(n, workers int, fn func() error) (time.Duration, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				if err := fn(); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), first
}

// BenchmarkClientCredentials issues client-credentials tokens over HTTP
// on loopback (client and server in this process, sharing the cores) and
// reports tokens per second beside the cost of one RS256 signature and
// the signatures per second all cores manage, measured in the same run.
// HTTP issuance and bare signing take turns in chunks, so that load from
// other processes on the machine weighs on both alike.
//
//	go test -run '^$' -bench ClientCredentials -benchtime 4000x ./authserver/
func BenchmarkClientCredentials(b *testing.B) {
	e := newEnv(b)
	key, err := e.srv.Keys().Signer()
	if err != nil {
		b.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]any{"iss": e.issuer, "sub": serviceID, "scope": "admin.read", "exp": time.Now().Unix()})
	sign := func() error { _, err := key.SignAccessToken(payload); return err }

	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"admin.read"}}.Encode()
	transport := &http.Transport{MaxIdleConnsPerHost: benchClients}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}
	tokenURL := e.issuer + "/connect/token"
	issue := func() error {
		req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(serviceID, e.serviceSecret)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return &httpStatusError{resp.StatusCode}
		}
		return nil
	}
	cores := runtime.GOMAXPROCS(0)

	b.ResetTimer()
	var httpTime, signAllTime, signOneTime time.Duration
	signs, oneSigns := 0, 0
	for done := 0; done < b.N; done += benchChunk {
		n := min(benchChunk, b.N-done)
		d, err := parallel(n, benchClients, issue)
		if err != nil {
			b.Fatal(err)
		}
		httpTime += d
		b.StopTimer()
		if d, err = parallel(n, cores, sign); err != nil {
			b.Fatal(err)
		}
		signAllTime += d
		signs += n
		if d, err = parallel(max(n/cores, 1), 1, sign); err != nil {
			b.Fatal(err)
		}
		signOneTime += d
		oneSigns += max(n/cores, 1)
		b.StartTimer()
	}
	b.StopTimer()
	tokens := float64(b.N) / httpTime.Seconds()
	capacity := float64(signs) / signAllTime.Seconds()
	perSignature := signOneTime / time.Duration(oneSigns)
	b.ReportMetric(tokens, "tokens/s")
	b.ReportMetric(float64(perSignature.Microseconds()), "µs/RS256-sign")
	b.ReportMetric(capacity, "signs/s")
	b.ReportMetric(100*tokens/capacity, "%-of-signing")
	b.Logf("%d requests, %d cores: %.0f tokens/s over HTTP; one RS256 signature %s; signing alone on all cores %.0f/s; %.0f%% of that",
		b.N, cores, tokens, perSignature.Round(time.Microsecond), capacity, 100*tokens/capacity)
}

type httpStatusError struct{ status int }

func (e *httpStatusError) Error() string {
	return "token endpoint answered " + http.StatusText(e.status)
}
