package bench_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/mfa/push"
	"github.com/portcullis/portcullis/policy"
)

// pushUser is one signed-in browser with an enrolled push device, on a
// running gateway node.
type pushUser struct {
	node   *testenv.Node
	c      *testenv.Client
	device *push.Device
	page   string // the push page's URL (a step-up continuation)
}

var (
	pushLink   = regexp.MustCompile(`<p class="secret">([^<]+)</p>`)
	pushNumber = regexp.MustCompile(`<p class="number-match"><span class="visually-hidden">[^<]*</span>(\d\d)</p>`)
	pushPoll   = regexp.MustCompile(`data-push-poll="([^"]+)"`)
)

// newPushUsers starts one node with opts and n users, each with a device
// enrolled through the real pages and API.
func newPushUsers(b *testing.B, n int, opts ...testenv.Option) []*pushUser {
	b.Helper()
	env := testenv.Start(b, opts...)
	node := env.Nodes[0]
	// Parallel clients leave spare connections that never sent a request;
	// the server's graceful shutdown would wait on them. Close them first
	// (cleanups run last-in first-out, so before the node stops).
	b.Cleanup(http.DefaultTransport.(*http.Transport).CloseIdleConnections)
	users := make([]*pushUser, n)
	for i := range users {
		email := fmt.Sprintf("bench%d@example.com", i)
		u := env.AddUser(b, email, "a long benchmark password")
		c := testenv.NewClient(b)
		c.Login(node, email, "a long benchmark password")
		page := c.Get(node.URL + "/mfa/push/enrol")
		m := pushLink.FindStringSubmatch(page.Body)
		if m == nil {
			b.Fatalf("no enrolment link:\n%s", page.Body)
		}
		key, _ := push.NewKey()
		d, err := push.Enrol(context.Background(), html.UnescapeString(m[1]), "bench", key, nil)
		if err != nil {
			b.Fatal(err)
		}
		form := url.Values{"_csrf": {c.CSRF(page)}, "l": {formValue(page.Body, "l")}}
		if r := c.PostForm(node.URL+"/mfa/push/enrol", form); r.StatusCode != http.StatusSeeOther {
			b.Fatalf("confirmation = %d", r.StatusCode)
		}
		to, err := node.Server.MFA.StepUpURL(u, policy.Requirement{Mode: policy.Required},
			policy.Decision{Outcome: policy.StepUp}, "Bench", "/")
		if err != nil {
			b.Fatal(err)
		}
		users[i] = &pushUser{node: node, c: c, device: d, page: node.URL + strings.Replace(to, "/mfa?", "/mfa/push?", 1)}
	}
	return users
}

func formValue(body, name string) string {
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// roundTrip is one push: the browser's page creates the challenge, the
// device's poll receives it, the device approves with the page's number,
// and the browser's status poll sees the approval.
func (u *pushUser) roundTrip(ctx context.Context) error {
	page := u.c.Get(u.page)
	m, poll := pushNumber.FindStringSubmatch(page.Body), pushPoll.FindStringSubmatch(page.Body)
	if page.StatusCode != http.StatusOK || m == nil || poll == nil {
		return fmt.Errorf("push page %d:\n%.400s", page.StatusCode, page.Body)
	}
	number, _ := strconv.Atoi(m[1])
	chs, err := u.device.Challenges(ctx, 5*time.Second)
	if err != nil {
		return err
	}
	if len(chs) != 1 {
		return fmt.Errorf("device got %d challenges", len(chs))
	}
	if _, err := u.device.Approve(ctx, chs[0].ID, number); err != nil {
		return err
	}
	r := u.c.Get(u.node.URL + html.UnescapeString(poll[1]))
	var s struct{ Status string }
	if json.Unmarshal([]byte(r.Body), &s) != nil || s.Status != push.StateApproved {
		return errors.New("status after approval: " + r.Body)
	}
	return nil
}

// redisSessions puts the node's sessions (and so the push challenges) in
// the Redis of GATEWAY_TEST_REDIS_URL, under a fresh key prefix.
func redisSessions(b *testing.B) testenv.Option {
	sessions := testenv.RedisSessions(b)
	return func(c *config.Config) {
		sessions(c)
		c.Log.Level = "error"
	}
}

func quiet(c *config.Config) { c.Log.Level = "error" }

// benchRoundTrip runs round trips one after the other with the first
// user, or, with parallel, with every core (each goroutine its own user).
func benchRoundTrip(b *testing.B, users []*pushUser, parallel bool) {
	ctx := context.Background()
	var next atomic.Int64
	start := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			u := users[int(next.Add(1)-1)%len(users)]
			for pb.Next() {
				if err := u.roundTrip(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
	} else {
		for range b.N {
			if err := users[0].roundTrip(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "roundtrips/s")
}

// BenchmarkPushRoundTripRedis is one push round trip (the page creates the
// challenge → the device's poll receives it → the signed approval → the
// browser's status poll sees it) through a node whose session backend is
// Redis, one at a time.
func BenchmarkPushRoundTripRedis(b *testing.B) {
	benchRoundTrip(b, newPushUsers(b, 1, redisSessions(b)), false)
}

// BenchmarkPushRoundTripRedisParallel runs round trips for 8 users per
// core at once, each with their own browser and device.
func BenchmarkPushRoundTripRedisParallel(b *testing.B) {
	b.SetParallelism(8)
	benchRoundTrip(b, newPushUsers(b, 8*runtime.GOMAXPROCS(0), redisSessions(b)), true)
}

// BenchmarkPushRoundTripMemory is the sequential round trip on the
// in-memory session backend (one node, no services), for comparison.
func BenchmarkPushRoundTripMemory(b *testing.B) {
	benchRoundTrip(b, newPushUsers(b, 1, quiet), false)
}
