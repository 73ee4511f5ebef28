package main

import "context"

// authenticator is the push companion device (being built).
func (c *cli) authenticator(ctx context.Context, args []string) error {
	return usagef("authenticator: not built yet")
}
