package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// BrowserTimeout bounds every Browser action, so that a page that never
// loads or an element that never appears fails the test instead of
// hanging it.
const BrowserTimeout = 20 * time.Second

// Browser is a headless Chromium driven over the DevTools protocol by
// github.com/chromedp/chromedp, with a fresh profile: real cookies with real
// SameSite rules, real redirects and form posts, real script. Every host
// under .test (sp.test, app.test...) resolves to 127.0.0.1, so a test can
// put a peer on another site than the gateway (http://127.0.0.1:PORT) with
// a loopback server reached as http://sp.test:PORT.
type Browser struct {
	t   testing.TB
	ctx context.Context // the tab

	mu   sync.Mutex
	docs []PageRequest
}

// PageRequest is a request the tab made for a page (a navigation, a form
// submission or a hop of their redirects), in order.
type PageRequest struct {
	Method, URL string
}

// RequireChromium returns the path of the Chromium binary: /usr/bin/chromium,
// else chromium on PATH. Without it the test skips, naming the package, or
// fails under GATEWAY_TEST_REQUIRE_SERVICES=1 (DESIGN.md §7).
func RequireChromium(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("GATEWAY_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("chromium is not installed (Debian package chromium) and GATEWAY_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("chromium is not installed (Debian package chromium)")
	}
	return path
}

// NewBrowser starts headless Chromium with a new empty profile and one tab;
// it is closed when the test ends.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	bin := RequireChromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // the tests may run as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		// No connection of Chromium's own: the machines running the tests
		// may have no network beyond loopback.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("host-resolver-rules", "MAP *.test 127.0.0.1"),
	}
	b := &Browser{t: t}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf), chromedp.WithListener(b.record))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // kills Chromium and waits for it
	})
	b.ctx = ctx
	// The first Do starts Chromium and opens the tab. It binds the
	// browser's life to its context, so that context has no timeout of its
	// own: the start is bounded from here, by closing the browser.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("testenv: start chromium %s: %v", bin, err)
		}
	case <-time.After(BrowserTimeout):
		cancelTab()
		cancelAlloc()
		t.Fatalf("testenv: chromium %s did not start within %v", bin, BrowserTimeout)
	}
	return b
}

// Do runs chromedp steps in the tab within BrowserTimeout, failing the
// test with what (a description) on error.
func (b *Browser) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, BrowserTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fail(what, err)
	}
}

func (b *Browser) fail(what string, err error) {
	b.t.Helper()
	b.t.Fatalf("browser: %s: %v\nat %s:\n%s", what, err, b.URL(), b.Text())
}

// Navigate loads url in the tab and waits for the page to load.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	b.Do("navigate to "+url, chromedp.Navigate(url))
}

// Submit fills the named inputs of the form holding the first of them,
// in order, then clicks its submit button, as a user would. It does not
// wait for the next page: follow it with WaitURL or WaitText.
func (b *Browser) Submit(fields map[string]string, order ...string) {
	b.t.Helper()
	if len(order) == 0 {
		for name := range fields {
			order = append(order, name)
		}
	}
	var steps []chromedp.Action[chromedp.Void]
	for _, name := range order {
		sel := chromedp.CSS(fmt.Sprintf(`input[name=%q]`, name))
		steps = append(steps, chromedp.WaitVisible(sel), chromedp.SetValue(sel, fields[name]))
	}
	submit := chromedp.CSS(fmt.Sprintf(`form:has(input[name=%q]) [type=submit]`, order[0]))
	steps = append(steps, chromedp.Click(submit))
	b.Do("submit "+strings.Join(order, ", "), steps...)
}

// Login fills the gateway's sign-in form (inputs email and password) on the
// current page and submits it.
func (b *Browser) Login(email, password string) {
	b.t.Helper()
	b.Submit(map[string]string{"email": email, "password": password}, "email", "password")
}

// WaitURL waits until the tab shows a loaded page whose URL starts with
// prefix, and returns the URL.
func (b *Browser) WaitURL(prefix string) string {
	b.t.Helper()
	var u string
	b.wait("URL "+prefix, func() bool {
		u = b.eval(`document.readyState === "complete" ? location.href : ""`)
		return strings.HasPrefix(u, prefix)
	})
	return u
}

// WaitText waits until the loaded page's text holds s, and returns the text.
func (b *Browser) WaitText(s string) string {
	b.t.Helper()
	var text string
	b.wait("text "+jsString(s), func() bool {
		text = b.eval(`document.readyState === "complete" && document.body ? document.body.innerText : ""`)
		return strings.Contains(text, s)
	})
	return text
}

// wait checks cond every 50 ms for BrowserTimeout. The page may navigate
// in between: a failed check is only a false one.
func (b *Browser) wait(what string, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(BrowserTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			b.fail("wait for "+what, context.DeadlineExceeded)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// eval evaluates a JavaScript expression yielding a string in the page,
// "" if it fails (the page is navigating, say).
func (b *Browser) eval(expr string) string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		return ""
	}
	return s
}

// record keeps the tab's page requests; chromedp calls it from the
// target's event loop.
func (b *Browser) record(ev any) {
	if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Type == network.ResourceTypeDocument && e.Request != nil {
		b.mu.Lock()
		b.docs = append(b.docs, PageRequest{Method: e.Request.Method, URL: e.Request.URL})
		b.mu.Unlock()
	}
}

// PageRequests returns the requests the tab made for pages so far, oldest
// first, and forgets them.
func (b *Browser) PageRequests() []PageRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	docs := b.docs
	b.docs = nil
	return docs
}

// URL is the tab's current URL ("" if it cannot be read).
func (b *Browser) URL() string { return b.eval(`location.href`) }

// Text is the visible text of the page ("" if it cannot be read).
func (b *Browser) Text() string { return b.eval(`document.body ? document.body.innerText : ""`) }

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	j, _ := json.Marshal(s) // a string: cannot fail
	return string(j)
}
