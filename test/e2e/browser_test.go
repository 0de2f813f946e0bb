package e2e

import (
	"context"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// chromium starts Debian's headless Chromium with the project's flags.
// It fails rather than skips when Chromium is missing: CI installs it,
// and the PKCE flow is part of what this package proves.
func chromium(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not found (%v): the PKCE end-to-end test needs Debian's chromium (apt-get install chromium)", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first action starts the browser; under a timeout, the timeout
	// would end the browser too.
	if err := chromedp.Do(browser, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

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
