// Package e2e holds the end-to-end tests of Gatehouse: they start the
// built binary exactly as README's run command does (the root Caddyfile,
// from the repository root, with a temporary GATEHOUSE_DATA_DIR) and use
// it as its users would, through the addresses of the seed document
// (../shared/seed/getting-your-first-token.txt): the token endpoint, the
// POS route with an API key, the clients admin API with a bearer token,
// and the PKCE login in a real headless Chromium.
//
// The default start listens on fixed ports (5000, 5001, 5003, 5101, 5103
// and the admin endpoint 2019), so the tests of this package run one after
// another, each with its own process.
package e2e
