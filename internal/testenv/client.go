package testenv

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Client is a browser-like client: it keeps cookies, does not follow
// redirects on its own (tests look at each one), and reads the CSRF token
// from the last form it fetched.
type Client struct {
	t    testing.TB
	HTTP *http.Client
	// Header is added to every request (e.g. a User-Agent or X-Forwarded-For).
	Header http.Header
}

// NewClient returns a client with an empty cookie jar.
func NewClient(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, Header: http.Header{}, HTTP: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Response is a fetched page with its body read.
type Response struct {
	*http.Response
	Body string
}

// Do sends req and reads the whole body.
func (c *Client) Do(req *http.Request) *Response {
	c.t.Helper()
	for k, v := range c.Header {
		req.Header[k] = v
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return &Response{Response: resp, Body: string(b)}
}

// Get fetches u.
func (c *Client) Get(u string) *Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.Do(req)
}

// PostForm posts form to u as a browser would, with the Origin of u.
func (c *Client) PostForm(u string, form url.Values) *Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if pu, err := url.Parse(u); err == nil {
		req.Header.Set("Origin", pu.Scheme+"://"+pu.Host)
	}
	return c.Do(req)
}

var csrfField = regexp.MustCompile(`name="_csrf"\s+value="([^"]*)"`)

// CSRF returns the token of the first form in page, failing the test when
// there is none.
func (c *Client) CSRF(page *Response) string {
	c.t.Helper()
	m := csrfField.FindStringSubmatch(page.Body)
	if m == nil {
		c.t.Fatalf("no _csrf field in %s page:\n%s", page.Request.URL, page.Body)
	}
	return html.UnescapeString(m[1])
}

// Submit fetches the form page at pageURL and posts fields (plus its CSRF
// token) to postURL.
func (c *Client) Submit(pageURL, postURL string, fields url.Values) *Response {
	c.t.Helper()
	page := c.Get(pageURL)
	if page.StatusCode != http.StatusOK {
		c.t.Fatalf("GET %s = %d, want 200:\n%s", pageURL, page.StatusCode, page.Body)
	}
	fields.Set("_csrf", c.CSRF(page))
	return c.PostForm(postURL, fields)
}

// Login signs in at the node and returns the answer to the POST.
func (c *Client) Login(node *Node, email, password string) *Response {
	c.t.Helper()
	return c.Submit(node.URL+"/login", node.URL+"/login", url.Values{"email": {email}, "password": {password}})
}

// Cookies returns the cookies the client holds for the node.
func (c *Client) Cookies(node *Node) []*http.Cookie {
	u, _ := url.Parse(node.URL)
	return c.HTTP.Jar.Cookies(u)
}

// CopyCookies gives the client's cookies for from to another node, as a
// load balancer in front of both would.
func (c *Client) CopyCookies(from, to *Node) {
	u, _ := url.Parse(to.URL)
	c.HTTP.Jar.SetCookies(u, c.Cookies(from))
}
