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

// signingCapacity measures RS256 signing with the server's own key: the
// time of one signature on one core, and signatures per second with
// every core signing.
func signingCapacity(b *testing.B, e *env) (perSignature time.Duration, perSecond float64) {
	key, err := e.srv.Keys().Signer()
	if err != nil {
		b.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]any{"iss": e.issuer, "sub": serviceID, "scope": "admin.read", "exp": time.Now().Unix()})
	const n = 300
	start := time.Now()
	for range n {
		if _, err := key.SignAccessToken(payload); err != nil {
			b.Fatal(err)
		}
	}
	perSignature = time.Since(start) / n
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	start = time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				_, _ = key.SignAccessToken(payload)
			}
		}()
	}
	wg.Wait()
	return perSignature, float64(workers*n) / time.Since(start).Seconds()
}

// BenchmarkClientCredentials issues client-credentials tokens over HTTP
// on loopback (client and server in this process, sharing the cores) and
// reports tokens per second beside what RS256 signing alone allows,
// measured in the same run.
//
//	go test -run '^$' -bench ClientCredentials -benchtime 5s ./authserver/
func BenchmarkClientCredentials(b *testing.B) {
	e := newEnv(b)
	perSignature, capacity := signingCapacity(b, e)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"admin.read"}}.Encode()
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}
	url := e.issuer + "/connect/token"

	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(serviceID, e.serviceSecret)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	tokens := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(tokens, "tokens/s")
	b.ReportMetric(float64(perSignature.Microseconds()), "µs/RS256-sign")
	b.ReportMetric(capacity, "signs/s-all-cores")
	b.ReportMetric(100*tokens/capacity, "%-of-signing-capacity")
	b.Logf("%d cores: %.0f tokens/s over HTTP; one RS256 signature %s; signing alone allows %.0f/s; %.0f%%",
		runtime.GOMAXPROCS(0), tokens, perSignature, capacity, 100*tokens/capacity)
}
