package e2e

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse-gw/gatehouse/internal/browsertest"
)

// chromium starts headless Chromium for the test.
func chromium(t *testing.T) context.Context { return browsertest.Start(t, 60*time.Second) }

// loginInBrowser opens authorize in Chromium, signs in as the user,
// allows the consent and returns the URL the browser was sent back to.
// Nothing listens on the portal's port, so the navigation to the
// callback is paused (Fetch domain) and answered by the test.
func loginInBrowser(t *testing.T, ctx context.Context, authorize, username, password string) *url.URL {
	t.Helper()
	waitCtx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	// Subscribe before the navigation, so the event cannot be missed.
	paused := chromedp.Events(waitCtx, fetch.RequestPaused)
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{
		Patterns: []*fetch.RequestPattern{{URLPattern: "http://localhost:3001/*"}},
	}); err != nil {
		t.Fatalf("enabling request interception: %v", err)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(authorize),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[value=allow]`)),
		chromedp.Click(chromedp.CSS(`button[value=allow]`)),
	)
	if err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("login and consent in Chromium: %v\npage: %s", err, page)
	}
	for ev, err := range paused {
		if err != nil {
			t.Fatalf("waiting for the redirect to the portal: %v", err)
		}
		if _, err := chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
			RequestID:       ev.RequestID,
			ResponseCode:    200,
			ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/plain"}},
			Body:            []byte("portal callback (answered by the test)"),
		}); err != nil {
			t.Fatalf("answering the callback: %v", err)
		}
		u, err := url.Parse(ev.Request.URL)
		if err != nil {
			t.Fatalf("callback URL: %v", err)
		}
		if !strings.HasPrefix(ev.Request.URL, portalCallback+"?") {
			t.Fatalf("redirected to %s, want %s?...", u.Redacted(), portalCallback)
		}
		return u
	}
	t.Fatal("no redirect to the portal")
	return nil
}
