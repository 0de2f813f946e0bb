package e2e

import (
	"strings"
	"testing"
)

// bannerTitle starts the block in which a first start prints the demo
// credentials for the person who ran it (issue 5 asks for it); it is the
// one place the output may show them.
const bannerTitle = "Gatehouse demo credentials (created on first start):"

// TestNoSecretInLogs runs every track, refusals included, and checks
// that the process's whole output, apart from the first start's banner,
// holds none of the credentials used: client secret, tokens, API keys
// (current, rotated out, refused), the user's password, the code.
func TestNoSecretInLogs(t *testing.T) {
	s := startSystem(t, t.TempDir())
	var used secrets
	runSeedDocument(t, s, &used)
	s.stop(t) // every line written

	logs := withoutBanner(t, s.proc.Logs())
	if !strings.Contains(logs, `"uri":"/pos/api/v1/members/lookup?phone=`+lookupPhone+`"`) {
		t.Fatalf("the output has no access log of the POS route, so this test checks nothing:\n%s", logs)
	}
	for _, sec := range used {
		if i := strings.Index(logs, sec.value); i >= 0 {
			t.Errorf("the output holds the %s: ...%s...", sec.name, excerpt(logs, i, len(sec.value)))
		}
	}
}

// withoutBanner removes the demo-credentials banner, which must be there
// exactly once: this run made the credentials.
func withoutBanner(t *testing.T, logs string) string {
	t.Helper()
	if n := strings.Count(logs, bannerTitle); n != 1 {
		t.Fatalf("the first start printed the demo-credentials banner %d times, want once", n)
	}
	start := strings.Index(logs, bannerTitle)
	end := strings.Index(logs[start:], "\n\n")
	if end < 0 {
		t.Fatalf("the demo-credentials banner does not end with a blank line")
	}
	return logs[:start] + logs[start+end:]
}

// excerpt shows where in the output a secret appeared, with the secret
// itself masked so the test's own output does not repeat it.
func excerpt(logs string, i, n int) string {
	from, to := max(0, i-120), min(len(logs), i+n+40)
	return logs[from:i] + "<SECRET>" + logs[i+n:to]
}
