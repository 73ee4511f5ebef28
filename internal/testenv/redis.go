package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// PrivateRedis is a redis-server of the test's own, on a port of its own,
// for tests that stop Redis on purpose; the machine's shared Redis is never
// touched.
type PrivateRedis struct {
	Addr string
	cmd  *exec.Cmd
	t    testing.TB
}

// StartPrivateRedis starts redis-server on a free loopback port. It skips
// (or fails under GATEWAY_TEST_REQUIRE_SERVICES=1) without redis-server.
func StartPrivateRedis(t testing.TB) *PrivateRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("GATEWAY_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("redis-server is not installed and GATEWAY_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("redis-server is not installed (Debian package redis-server)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := &PrivateRedis{Addr: addr, t: t}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// Start (re)starts the server on its address and waits until it answers.
func (r *PrivateRedis) Start() {
	r.t.Helper()
	_, port, _ := net.SplitHostPort(r.Addr)
	r.cmd = exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", r.t.TempDir())
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	for range 100 {
		if c, err := net.Dial("tcp", r.Addr); err == nil {
			fmt.Fprint(c, "PING\r\n")
			buf := make([]byte, 7)
			c.SetReadDeadline(time.Now().Add(time.Second))
			n, _ := c.Read(buf)
			c.Close()
			if string(buf[:n]) == "+PONG\r\n" {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("redis-server on %s did not answer", r.Addr)
}

// Stop kills the server and waits for it to exit.
func (r *PrivateRedis) Stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}

// URL is the server's redis:// URL.
func (r *PrivateRedis) URL() string { return "redis://" + r.Addr + "/0" }
