// Package gatehousecmd registers the `caddy gatehouse` command, under
// which Gatehouse's packages hang their subcommands (for example
// `caddy gatehouse keys`, in package keyscmd). A package adds its
// subcommands from init with Register; plugins/plugins.go imports it so
// the build includes them.
package gatehousecmd

import (
	"sync"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

var (
	mu       sync.Mutex
	builders []func(gatehouse *cobra.Command)
)

// Register adds subcommands to `caddy gatehouse`: add is called with the
// gatehouse command each time the command tree is built, and must add
// freshly made subcommands to it. Call Register from init.
func Register(add func(gatehouse *cobra.Command)) {
	mu.Lock()
	defer mu.Unlock()
	builders = append(builders, add)
}

// build adds every registered subcommand to cmd.
func build(cmd *cobra.Command) {
	mu.Lock()
	defer mu.Unlock()
	for _, add := range builders {
		add(cmd)
	}
}

const (
	short = "Manages Gatehouse's stores (API keys, authserver, backups)"
	long  = `
Management of Gatehouse's stores, for bootstrap, scripts and operations.
The keys, authserver and restore commands open the store files directly,
so they work only while no running Gatehouse holds them (while it runs,
manage API keys through the admin API). The backup command works while
Gatehouse runs: it asks the running process, through Caddy's admin
endpoint, for a consistent copy of each store.
`
)

// New returns a fresh `gatehouse` command tree with every registered
// subcommand, for running it in-process (tests, tools).
func New() *cobra.Command {
	cmd := &cobra.Command{Use: "gatehouse <command>", Short: short, Long: long, SilenceUsage: true}
	build(cmd)
	return cmd
}

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:      "gatehouse",
		Usage:     "<command>",
		Short:     short,
		Long:      long,
		CobraFunc: build,
	})
}
