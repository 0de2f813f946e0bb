package adminapi

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-gw/gatehouse/caddymodule/apikey"
	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
)

// revocationProbe hammers the API-key track with one key from several
// goroutines while the test changes the key's client through the API. A
// lookup is tagged with whether the change had already been answered when
// the lookup started; such a lookup must see the change.
type revocationProbe struct {
	track *apikey.Provider
	key   string

	// answered is set once the API has answered the change under test.
	answered atomic.Bool
	// wantAcceptedAfter: whether lookups starting after the answer must be
	// accepted (enable) or refused (disable, rotation, delete).
	wantAcceptedAfter bool

	accepted, refused atomic.Int64 // lookups that started after the answer
	violations        atomic.Int64
	before            atomic.Int64 // lookups that started before it
}

// run looks the key up from workers goroutines until stop is closed.
func (p *revocationProbe) run(t *testing.T, workers int, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				after := p.answered.Load()
				_, err := p.track.Verify(context.Background(), p.key)
				var refusal *authn.Failure
				if err != nil && !errors.As(err, &refusal) {
					t.Errorf("lookup failed: %v", err)
					return
				}
				if !after {
					p.before.Add(1)
					continue
				}
				if (err == nil) != p.wantAcceptedAfter {
					p.violations.Add(1)
				}
				if err == nil {
					p.accepted.Add(1)
				} else {
					p.refused.Add(1)
				}
			}
		}()
	}
	return &wg
}

// TestChangesReachLookupsAtOnce runs disable, enable, rotation without
// grace and delete through the API while goroutines verify the key with
// the real API-key track on the same pooled store (lookup cache included).
// No lookup that starts after the API answered may see the old state.
// Run it with -race.
func TestChangesReachLookupsAtOnce(t *testing.T) {
	a := newTestAPI(t, Handler{})
	track := &apikey.Provider{Store: a.storePath}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	if err := track.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	defer track.Cleanup()

	const rounds, workers = 10, 8
	for round := 0; round < rounds; round++ {
		c := a.createClient("till", "pos.read")
		path := clientsPath + "/" + c.ID
		var rotated issued
		steps := []struct {
			name           string
			key            func() string
			change         func()
			acceptedBefore bool
			acceptedAfter  bool
		}{
			{"disable", func() string { return c.APIKey }, func() {
				a.must(http.StatusOK, call{method: "POST", path: path + "/disable"})
			}, true, false},
			{"enable", func() string { return c.APIKey }, func() {
				a.must(http.StatusOK, call{method: "POST", path: path + "/enable"})
			}, false, true},
			{"rotate without grace", func() string { return c.APIKey }, func() {
				a.must(http.StatusOK, call{method: "POST", path: path + "/rotate-secret", body: `{"grace_period_seconds": 0}`}).decode(t, &rotated)
			}, true, false},
			{"delete", func() string { return rotated.APIKey }, func() {
				a.must(http.StatusNoContent, call{method: "DELETE", path: path})
			}, true, false},
		}
		for _, step := range steps {
			p := &revocationProbe{track: track, key: step.key(), wantAcceptedAfter: step.acceptedAfter}
			// The state before the change is cached by now.
			if _, err := track.Verify(context.Background(), p.key); (err == nil) != step.acceptedBefore {
				t.Fatalf("round %d, %s: before the change, lookup error %v", round, step.name, err)
			}
			stop := make(chan struct{})
			wg := p.run(t, workers, stop)
			time.Sleep(2 * time.Millisecond)
			step.change()
			p.answered.Store(true)
			// Let a good number of lookups start after the answer.
			for deadline := time.Now().Add(5 * time.Second); p.accepted.Load()+p.refused.Load() < 200 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			close(stop)
			wg.Wait()
			if n := p.violations.Load(); n > 0 {
				t.Errorf("round %d, %s: %d lookups that started after the API answered saw the old state (%d accepted, %d refused after; %d before)",
					round, step.name, n, p.accepted.Load(), p.refused.Load(), p.before.Load())
			}
			if p.accepted.Load()+p.refused.Load() == 0 || p.before.Load() == 0 {
				t.Errorf("round %d, %s: %d lookups before the change and %d after; the test needs both", round, step.name, p.before.Load(), p.accepted.Load()+p.refused.Load())
			}
		}
		if _, err := track.Verify(context.Background(), rotated.APIKey); err == nil {
			t.Errorf("round %d: a deleted client's key is accepted", round)
		}
	}
}
