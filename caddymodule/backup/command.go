package backup

import (
	"fmt"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/gatehouse-gw/gatehouse/caddymodule/gatehousecmd"
)

func init() {
	gatehousecmd.Register(func(gatehouse *cobra.Command) {
		gatehouse.AddCommand(newBackupCommand(), newRestoreCommand())
	})
}

func newBackupCommand() *cobra.Command {
	var address, config, adapter, output string
	cmd := &cobra.Command{
		Use:   "backup --output DIR [--address ADDR | --config FILE [--adapter NAME]]",
		Short: "Copies every open store of a running Gatehouse into a directory",
		Long: `Asks the running Gatehouse, through Caddy's admin endpoint, for a consistent
snapshot of each store it has open (the API-key store and the authserver
store) and writes each to DIR/<kind>-<file name>, e.g. DIR/keys-keys.db and
DIR/authserver-authserver.db. Each file is written under a temporary name,
synced, checked as a bbolt database, and only then renamed into place.
Gatehouse keeps serving and writing meanwhile.

The admin endpoint is --address, else the admin address of --config, else
localhost:2019. The command fails, with a non-zero exit status, if any store
could not be copied and checked, or if none is open.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addr, err := caddycmd.DetermineAdminAPIAddress(address, nil, config, adapter)
			if err != nil {
				return fmt.Errorf("finding the admin address: %w", err)
			}
			return runBackup(cmd.OutOrStdout(), addr, output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "directory to write the backup files to, created if missing (required)")
	cmd.Flags().StringVar(&address, "address", "", "Caddy's admin endpoint (default: from --config, else localhost:2019)")
	cmd.Flags().StringVarP(&config, "config", "c", "", "configuration file to read the admin address from")
	cmd.Flags().StringVarP(&adapter, "adapter", "a", "", "name of the config adapter of --config")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

func newRestoreCommand() *cobra.Command {
	var from, dataDir string
	var lockTimeout = defaultRestoreLockTimeout
	cmd := &cobra.Command{
		Use:   "restore --from DIR --data-dir DIR",
		Short: "Puts backup files back into a data directory while Gatehouse is stopped",
		Long: `Copies the backup files that 'caddy gatehouse backup' wrote to --from
(keys-<file> and authserver-<file>) into --data-dir as <file>, e.g.
keys-keys.db as keys.db. Stop Gatehouse first: the command refuses to touch
a file that a running process holds.

Every backup file is checked as a bbolt database before anything changes.
Each is copied under a temporary name, synced and renamed into place; the
file it replaces is kept as <file>.before-restore. An existing
*.before-restore file is never overwritten: the command refuses instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRestore(cmd.OutOrStdout(), from, dataDir, lockTimeout)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "directory holding the backup files (required)")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "data directory to restore into, created if missing (required)")
	cmd.Flags().DurationVar(&lockTimeout, "lock-timeout", lockTimeout, "how long to wait for a store file's lock before refusing")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("data-dir")
	return cmd
}
