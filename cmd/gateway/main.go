// Command gateway is Portcullis: `gateway serve` runs the identity gateway,
// and the other commands administer the same store while it runs (users,
// groups, apps, keys, version, …). See DESIGN.md §4 for the contract.
//
// Exit codes: 0 success, 2 bad usage or bad configuration, 1 anything else.
// Errors go to stderr.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// usageError marks a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// env is what a command runs with, so tests can run commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
}

const usage = `Usage: gateway [--config FILE] COMMAND [ARGS]

Commands:
  serve                                run the gateway
  users add EMAIL [--name N] [--password-stdin] [--admin] [--group G]...
  users list [--json]
  users disable|enable|delete EMAIL [--json]
  groups add|delete NAME [--json]
  groups list [--json]
  groups members NAME [--add EMAIL]... [--remove EMAIL]... [--json]
  apps add NAME --metadata FILE|URL [--mfa required|optional|off] [--group G]...
      [--mfa-factor webauthn|push|totp|recovery|upstream_mfa]... [--mfa-max-age D]
      [--nameid-format email|persistent|transient|unspecified] [--nameid-attr SRC]
      [--attr NAME=SOURCE]... [--sign assertion|response|both]
      [--encrypt off|aes256-gcm|aes128-cbc] [--json]
  apps list [--json]
  apps remove NAME [--json]
  apps refresh [NAME] [--json]
  idps add NAME --metadata FILE|URL [--link email|nameid|attribute] [--link-attribute A]
      [--create-users] [--groups-attribute A] [--trust-mfa] [--allow-unsolicited]
      [--want response|assertion|either] [--json]
  idps list [--json]
  idps set NAME [--link ...] [--link-attribute A] [--create-users[=false]] [--groups-attribute A]
      [--trust-mfa[=false]] [--allow-unsolicited[=false]] [--want ...] [--json]
  idps remove NAME [--json]
  idps refresh [NAME] [--json]
  folders add NAME | list | apps NAME [--add APP]... [--remove APP]... [--json]
  folders share NAME --user EMAIL|--group NAME [--readonly] [--give] [--admin] [--json]
  folders unshare NAME --user EMAIL|--group NAME [--json]
  keys list [--json]
  keys rotate [--now] [--force] [--json]
  api scim-token NAME [--revoke] [--json]
  api enterprise-secret [--json]
  users reset-mfa EMAIL [--json]
  events [--since T] [--until T] [--format jsonl|text] [--json]
  authenticator enroll URL [--key FILE] [--name N] [--json]
  authenticator listen [--once] [--auto-approve-number NN, tests only] | approve --number NN | deny [--challenge ID] [--wait D] [--key FILE] [--json]
  version [--json]

Every command takes --config FILE; every setting can also be given as a
GATEWAY_* environment variable (see README.md).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ()})
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, e env) int {
	err := dispatch(ctx, args, e)
	if err == nil {
		return 0
	}
	fmt.Fprintln(e.stderr, "gateway:", err)
	var ue *usageError
	var ce *configError
	if errors.As(err, &ue) || errors.As(err, &ce) {
		if errors.As(err, &ue) {
			fmt.Fprint(e.stderr, "\n", usage)
		}
		return 2
	}
	return 1
}

func dispatch(ctx context.Context, args []string, e env) error {
	configPath, args, err := globalConfig(args)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("no command given")
	}
	c := &cli{env: e, configPath: configPath}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return c.serve(ctx, rest)
	case "users":
		return c.users(ctx, rest)
	case "groups":
		return c.groups(ctx, rest)
	case "apps":
		return c.apps(ctx, rest)
	case "idps":
		return c.idps(ctx, rest)
	case "folders":
		return c.folders(ctx, rest)
	case "keys":
		return c.keys(ctx, rest)
	case "api":
		return c.api(ctx, rest)
	case "events":
		return c.events(ctx, rest)
	case "authenticator":
		return c.authenticator(ctx, rest)
	case "version":
		return c.version(rest)
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, usage)
		return nil
	default:
		return usagef("unknown command %q", cmd)
	}
}

// globalConfig takes a leading --config FILE (or --config=FILE) off args.
func globalConfig(args []string) (string, []string, error) {
	if len(args) == 0 || !strings.HasPrefix(args[0], "-") {
		return "", args, nil
	}
	name, value, hasValue := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
	switch {
	case name != "config":
		return "", args, nil
	case hasValue:
		return value, args[1:], nil
	case len(args) < 2:
		return "", nil, usagef("--config needs a file")
	}
	return args[1], args[2:], nil
}
