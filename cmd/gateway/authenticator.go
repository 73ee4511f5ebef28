package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/mfa/push"
)

// defaultKeyFile is where the authenticator keeps its device key.
const defaultKeyFile = "portcullis-authenticator.json"

// authenticator is `gateway authenticator`: a working push device (the
// protocol is mfa/push's). It needs no configuration, only the gateway's
// enrolment link and then its key file.
func (c *cli) authenticator(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("authenticator: give enroll, listen, approve or deny")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "enroll", "enrol":
		return c.authEnroll(ctx, rest)
	case "listen":
		return c.authListen(ctx, rest)
	case "approve":
		return c.authAnswer(ctx, rest, true)
	case "deny":
		return c.authAnswer(ctx, rest, false)
	default:
		return usagef("authenticator: unknown command %q", cmd)
	}
}

// deviceFlags are the flags every authenticator command takes.
type deviceFlags struct {
	key  *string
	json *bool
}

func (c *cli) deviceFlags(name string) (*flag.FlagSet, deviceFlags) {
	fs := c.flags("authenticator " + name)
	return fs, deviceFlags{key: fs.String("key", defaultKeyFile, "device key file"), json: fs.Bool("json", false, "JSON output")}
}

// authEnroll is `authenticator enroll URL [--key FILE] [--name N]`: it makes
// a key, uses the one-time link the enrolment page shows, and keeps the
// device in a file only its owner can read.
func (c *cli) authEnroll(ctx context.Context, args []string) error {
	flags, df := c.deviceFlags("enroll")
	host, _ := os.Hostname()
	name := flags.String("name", strings.TrimSpace("authenticator "+host), "device name")
	pos, err := parse(flags, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("authenticator enroll: give the enrolment link shown on the set-up page")
	}
	if _, _, err := push.ParseLink(pos[0]); err != nil {
		return usagef("authenticator enroll: %v", err)
	}
	if err := push.Reserve(*df.key); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists: remove it first or choose another file with --key", *df.key)
	} else if err != nil {
		return err
	}
	d, err := enrolDevice(ctx, pos[0], *name, *df.key)
	if err != nil {
		os.Remove(*df.key)
		return err
	}
	if *df.json {
		return c.printJSON(map[string]any{"device_id": d.ID, "user": d.User, "name": d.Name, "server": d.Server, "key_file": *df.key})
	}
	fmt.Fprintf(c.stdout, "Enrolled %q for %s at %s; its key is in %s.\n", d.Name, d.User, d.Server, *df.key)
	fmt.Fprintln(c.stdout, "Keep the set-up page open: it finishes the enrolment by itself. Then run: gateway authenticator listen")
	return nil
}

func enrolDevice(ctx context.Context, link, name, path string) (*push.Device, error) {
	key, err := push.NewKey()
	if err != nil {
		return nil, err
	}
	d, err := push.Enrol(ctx, link, name, key, nil)
	if err != nil {
		return nil, err
	}
	return d, d.Save(path)
}

// authListen is `authenticator listen [--once] [--auto-approve-number NN]`:
// it waits for pushes and asks, for each, for the number the browser shows
// (or d to deny).
func (c *cli) authListen(ctx context.Context, args []string) error {
	flags, df := c.deviceFlags("listen")
	once := flags.Bool("once", false, "exit after answering one push")
	auto := flags.Int("auto-approve-number", 0, "FOR TESTS ONLY: approve every push with this number, without asking")
	if err := parseNone(flags, args); err != nil {
		return err
	}
	if *auto != 0 && (*auto < 10 || *auto > 99) {
		return usagef("authenticator listen: --auto-approve-number must be 10 to 99")
	}
	d, err := push.LoadDevice(*df.key)
	if err != nil {
		return err
	}
	l := &listener{cli: c, d: d, json: *df.json, auto: *auto, in: bufio.NewReader(c.stdin), seen: map[string]bool{}}
	if !l.json {
		fmt.Fprintf(c.stdout, "Waiting for pushes for %s at %s. Ctrl-C stops.\n", d.User, d.Server)
	}
	for {
		done, err := l.round(ctx, *once)
		if done || err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// listener is one run of authenticator listen.
type listener struct {
	*cli
	d    *push.Device
	json bool
	auto int
	in   *bufio.Reader
	seen map[string]bool
}

// round long-polls once and answers what it got; done is true when the
// listener should stop (--once after an answer, or stdin ended).
func (l *listener) round(ctx context.Context, once bool) (done bool, err error) {
	chs, err := l.d.Challenges(ctx, push.MaxWait)
	switch {
	case push.ErrorCode(err) == push.CodeNotConfirmed:
		l.say("The enrolment is not finished yet: keep the set-up page open in the browser.")
		return false, sleep(ctx, 2*time.Second)
	case err != nil:
		return true, err
	}
	for _, ch := range chs {
		if l.seen[ch.ID] {
			continue
		}
		l.seen[ch.ID] = true
		answered, err := l.handle(ctx, ch)
		var refused *push.APIError
		switch {
		case errors.As(err, &refused) && !once:
			continue // printed; the next push may go better
		case err != nil || once && answered:
			return true, err
		}
	}
	return false, nil
}

// handle shows one push, asks, and answers it. Its error is the gateway's
// refusal of the answer (a *push.APIError, already printed) or the end of
// stdin.
func (l *listener) handle(ctx context.Context, ch push.Challenge) (bool, error) {
	l.event(map[string]any{"event": "challenge", "challenge": ch}, describe(ch))
	approve, number, err := l.decide()
	if err != nil {
		return false, err
	}
	var res push.AnswerResponse
	if approve {
		res, err = l.d.Approve(ctx, ch.ID, number)
	} else {
		res, err = l.d.Deny(ctx, ch.ID)
	}
	if err != nil {
		l.event(map[string]any{"event": "error", "id": ch.ID, "code": push.ErrorCode(err), "error": err.Error()},
			"Not answered: "+err.Error())
		return true, err
	}
	l.event(map[string]any{"event": "answer", "id": ch.ID, "status": res.Status}, map[string]string{
		push.StateApproved: "Approved.", push.StateDenied: "Denied."}[res.Status])
	return true, nil
}

// decide asks on stdin until it gets a two-digit number or "d".
func (l *listener) decide() (approve bool, number int, err error) {
	if l.auto != 0 {
		return true, l.auto, nil
	}
	for {
		if !l.json {
			fmt.Fprint(l.stdout, "Type the number shown in the browser to approve, or d to deny: ")
		}
		line, err := l.in.ReadString('\n')
		line = strings.TrimSpace(line)
		if line == "" && err != nil {
			return false, 0, errors.New("authenticator listen: input ended before the push was answered")
		}
		if strings.EqualFold(line, "d") || strings.EqualFold(line, "deny") {
			return false, 0, nil
		}
		if n, convErr := strconv.Atoi(line); convErr == nil && n >= 10 && n <= 99 {
			return true, n, nil
		}
		l.say("Type the two-digit number from the browser, or d.")
		if err != nil {
			return false, 0, errors.New("authenticator listen: input ended before the push was answered")
		}
	}
}

func describe(ch push.Challenge) string {
	app := ch.App
	if app == "" {
		app = "Portcullis"
	}
	return fmt.Sprintf("Push for %s: sign-in to %s from %s at %s (expires in %s).", ch.User, app, ch.IP,
		ch.Created.UTC().Format("2006-01-02 15:04:05 MST"), time.Until(ch.Expires).Round(time.Second))
}

// event prints a JSON line with --json, else text.
func (l *listener) event(v any, text string) {
	if l.json {
		json.NewEncoder(l.stdout).Encode(v)
		return
	}
	fmt.Fprintln(l.stdout, text)
}

func (l *listener) say(text string) {
	if !l.json {
		fmt.Fprintln(l.stdout, text)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// authAnswer is `authenticator approve --number NN` and `authenticator
// deny`: they answer the given push, or the oldest pending one.
func (c *cli) authAnswer(ctx context.Context, args []string, approve bool) error {
	name := map[bool]string{true: "approve", false: "deny"}[approve]
	flags, df := c.deviceFlags(name)
	id := flags.String("challenge", "", "the push to answer (default: the oldest pending)")
	wait := flags.Duration("wait", 0, "how long to wait for a push when none is pending (at most 25s)")
	number := 0
	if approve {
		flags.IntVar(&number, "number", 0, "the number shown in the browser")
	}
	if err := parseNone(flags, args); err != nil {
		return err
	}
	if approve && (number < 10 || number > 99) {
		return usagef("authenticator approve: --number must be the two-digit number shown in the browser")
	}
	d, err := push.LoadDevice(*df.key)
	if err != nil {
		return err
	}
	ch := push.Challenge{ID: *id}
	if ch.ID == "" {
		if ch, err = oldest(ctx, d, *wait); err != nil {
			return err
		}
	}
	var res push.AnswerResponse
	if approve {
		res, err = d.Approve(ctx, ch.ID, number)
	} else {
		res, err = d.Deny(ctx, ch.ID)
	}
	if err != nil {
		return err
	}
	if *df.json {
		return c.printJSON(map[string]string{"id": res.ID, "status": res.Status, "user": ch.User, "app": ch.App})
	}
	fmt.Fprintf(c.stdout, "%s push %s", map[bool]string{true: "Approved", false: "Denied"}[approve], res.ID)
	if ch.User != "" {
		fmt.Fprintf(c.stdout, " for %s", ch.User)
	}
	if ch.App != "" {
		fmt.Fprintf(c.stdout, " to %s", ch.App)
	}
	fmt.Fprintln(c.stdout, ".")
	return nil
}

// oldest returns the oldest pending push, waiting up to wait for one.
func oldest(ctx context.Context, d *push.Device, wait time.Duration) (push.Challenge, error) {
	chs, err := d.Challenges(ctx, wait)
	if err != nil {
		return push.Challenge{}, err
	}
	if len(chs) == 0 {
		return push.Challenge{}, errors.New("no push is pending (--wait waits for one)")
	}
	return chs[0], nil
}
