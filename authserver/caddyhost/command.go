package caddyhost

import (
	"github.com/spf13/cobra"

	"github.com/gatehouse-gw/gatehouse/authserver/command"
	"github.com/gatehouse-gw/gatehouse/caddymodule/gatehousecmd"
)

// `caddy gatehouse authserver clients|users|keys|seed ...`: the
// authserver's management commands in the gateway build (serve is the
// gatehouse_authserver handler's job there).
func init() {
	gatehousecmd.Register(func(gatehouse *cobra.Command) {
		gatehouse.AddCommand(command.New(command.Options{}))
	})
}
