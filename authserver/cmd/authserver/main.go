// Command authserver runs Gatehouse's OAuth 2.0 / OpenID Connect server on
// its own (default listen :5000, issuer http://localhost:5000) and manages
// its store:
//
//	authserver [serve] [--listen :5000] [--issuer URL] [--store FILE] [--seed FILE] [--demo-credentials FILE]
//	authserver clients add|list|rotate-secret|remove ...
//	authserver users add|passwd|remove|list ...
//	authserver keys rotate|list
//	authserver seed FILE
//
// The same management commands run as `caddy gatehouse authserver ...`.
package main

import (
	"os"

	"github.com/gatehouse-gw/gatehouse/authserver/command"
)

func main() {
	if err := command.New(command.Options{Serve: true}).Execute(); err != nil {
		os.Exit(1)
	}
}
