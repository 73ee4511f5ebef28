package postgres

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/portcullis/portcullis/store"
)

const password = "s3cret-Pa55word"

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://gw:" + password + "@db.example.com:6543/portcullis?sslmode=disable": "db.example.com:6543/portcullis",
		"postgresql://gw:" + password + "@10.0.0.5/gw":                                  "10.0.0.5:5432/gw",
		"postgres://gw@[2001:db8::1]:5433/gw?password=" + password:                      "[2001:db8::1]:5433/gw",
		"host=db port=5999 user=gw password=" + password + " dbname=dir":                "db:5999/dir",
		"postgres://gw:" + password + "@db:notaport/gw":                                 "(unparsable URL)",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// Nothing listens on port 1: Open fails at once, naming the server and not
// the password.
func TestOpenUnreachable(t *testing.T) {
	start := time.Now()
	_, err := Open(t.Context(), "postgres://gw:"+password+"@127.0.0.1:1/gw?sslmode=disable")
	checkUnavailable(t, err, "127.0.0.1:1/gw")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Open took %v", d)
	}
}

// A server that accepts connections but never answers: connect_timeout
// bounds Open.
func TestOpenSilentServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go holdConnections(l)
	start := time.Now()
	_, err = Open(t.Context(), "postgres://gw:"+password+"@"+l.Addr().String()+"/gw?sslmode=disable&connect_timeout=1")
	checkUnavailable(t, err, l.Addr().String()+"/gw")
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("Open took %v with connect_timeout=1", d)
	}
}

// holdConnections accepts connections and never answers them.
func holdConnections(l net.Listener) {
	var held []net.Conn
	for {
		c, err := l.Accept()
		if err != nil {
			for _, c := range held {
				c.Close()
			}
			return
		}
		held = append(held, c)
	}
}

func checkUnavailable(t *testing.T, err error, server string) {
	t.Helper()
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("error = %v, want store.ErrUnavailable", err)
	}
	if msg := err.Error(); !strings.Contains(msg, server) || strings.Contains(msg, password) {
		t.Fatalf("error %q must name %s and not the password", msg, server)
	}
}

func TestDefaultConnectTimeout(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"postgres://gw@db/gw":                   connectTimeout,
		"postgres://gw@db/gw?connect_timeout=2": 2 * time.Second,
	} {
		cfg, err := config(in)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.ConnectTimeout != want {
			t.Errorf("config(%q).ConnectTimeout = %v, want %v", in, cfg.ConnectTimeout, want)
		}
	}
}

func TestErrorClasses(t *testing.T) {
	for _, tc := range []struct {
		err                   error
		conflict, unavailable bool
	}{
		{&pgconn.PgError{Code: "23505"}, true, false},
		{&pgconn.PgError{Code: "23503"}, true, false},
		{&pgconn.PgError{Code: "23514"}, false, false}, // check_violation: a bug, not a conflict
		{&pgconn.PgError{Code: "08006"}, false, true},
		{&pgconn.PgError{Code: "57P01"}, false, true},
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, false, true},
		{io.ErrUnexpectedEOF, false, true},
		{errors.New("syntax"), false, false},
	} {
		if isConflict(tc.err) != tc.conflict || isUnavailable(tc.err) != tc.unavailable {
			t.Errorf("%v: conflict %v, unavailable %v; want %v, %v", tc.err,
				isConflict(tc.err), isUnavailable(tc.err), tc.conflict, tc.unavailable)
		}
	}
}
