package testenv

import (
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// AutoForm is a form of an HTML page, such as the auto-submitting
// page of the SAML HTTP-POST binding (SAML Bindings §3.5.4) that a browser
// submits with JavaScript and a test must submit itself.
type AutoForm struct {
	// Action is absolute, resolved against the page's URL.
	Action string
	// Method is "POST" or "GET".
	Method string
	// Fields are the values the browser would send: named inputs, less
	// buttons and unchecked boxes. Textarea and select are not read.
	Fields url.Values
}

// ParseAutoForm reads the first form of page that carries a SAMLRequest or
// SAMLResponse, or else its first form. golang.org/x/net/html is not in
// go.mod, so it reads the tags with regular expressions that follow the
// HTML5 tag syntax (quoted, unquoted and bare attributes, any case), after
// dropping comments, scripts and styles, and unescapes values with
// html.UnescapeString. That is enough for the pages template engines
// write, not for arbitrary HTML.
func ParseAutoForm(page *Response) (*AutoForm, error) {
	forms := parseForms(page.Body)
	if len(forms) == 0 {
		return nil, errors.New("no <form> in the page")
	}
	f := forms[0]
	for _, g := range forms {
		if g.isSAML() {
			f = g
			break
		}
	}
	action, err := page.Request.URL.Parse(f.Action)
	if err != nil {
		return nil, fmt.Errorf("form action %q: %w", f.Action, err)
	}
	f.Action = action.String()
	return f, nil
}

func (f *AutoForm) isSAML() bool {
	return f.Fields.Get("SAMLRequest") != "" || f.Fields.Get("SAMLResponse") != ""
}

var (
	htmlHiddenRE = regexp.MustCompile(`(?is)<!--.*?-->|<script\b.*?</script\s*>|<style\b.*?</style\s*>`)
	htmlTagRE    = regexp.MustCompile(`(?is)<(/?)(form|input)\b((?:[^>"']|"[^"]*"|'[^']*')*)>`)
	htmlAttrRE   = regexp.MustCompile(`([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>` + "`" + `]+)))?`)
)

// parseForms returns the forms of body with their inputs; a <form> inside
// an open form is ignored, as HTML parsers do.
func parseForms(body string) []*AutoForm {
	var forms []*AutoForm
	var f *AutoForm
	for _, m := range htmlTagRE.FindAllStringSubmatch(htmlHiddenRE.ReplaceAllString(body, ""), -1) {
		closing, tag, attrs := m[1] == "/", strings.ToLower(m[2]), htmlAttrs(m[3])
		switch {
		case f == nil && tag == "form" && !closing:
			f = &AutoForm{Action: attrs["action"], Method: http.MethodGet, Fields: url.Values{}}
			if strings.EqualFold(attrs["method"], "post") {
				f.Method = http.MethodPost
			}
			forms = append(forms, f)
		case f != nil && tag == "form" && closing:
			f = nil
		case f != nil && tag == "input":
			f.addInput(attrs)
		}
	}
	return forms
}

// htmlAttrs parses the attributes of a tag; names are lower case.
func htmlAttrs(s string) map[string]string {
	attrs := map[string]string{}
	for _, m := range htmlAttrRE.FindAllStringSubmatch(s, -1) {
		name := strings.ToLower(m[1])
		if _, dup := attrs[name]; !dup { // the first one wins, as in HTML
			attrs[name] = html.UnescapeString(m[2] + m[3] + m[4])
		}
	}
	return attrs
}

// addInput adds what a browser sends for the input: nothing for buttons,
// unnamed inputs and unchecked boxes.
func (f *AutoForm) addInput(attrs map[string]string) {
	name, typ := attrs["name"], strings.ToLower(attrs["type"])
	_, checked := attrs["checked"]
	value, hasValue := attrs["value"]
	box := typ == "checkbox" || typ == "radio"
	switch {
	case name == "" || typ == "submit" || typ == "button" || typ == "image" || typ == "reset" || typ == "file":
	case box && !checked:
	case box && !hasValue:
		f.Fields.Add(name, "on")
	default:
		f.Fields.Add(name, value)
	}
}

// PostAutoForm submits the form of page that ParseAutoForm picks with c, as the page's
// script would (with the page's Origin), then follows the chain with
// FollowSAML and returns the last answer.
func PostAutoForm(c *Client, page *Response) *Response {
	c.t.Helper()
	f, err := ParseAutoForm(page)
	if err != nil {
		c.t.Fatalf("%s %s = %d: %v\n%s", page.Request.Method, page.Request.URL, page.StatusCode, err, excerpt(page.Body))
	}
	return FollowSAML(c, submitForm(c, page, f))
}

// FollowSAML follows what a browser would do on its own from r: redirects
// to loopback hosts, and pages whose first form carries a SAMLRequest or
// SAMLResponse (auto-submitted). It returns the first answer that is
// neither, such as an SP's ACS answer or a login page.
func FollowSAML(c *Client, r *Response) *Response {
	c.t.Helper()
	for range 20 {
		if loc := r.Header.Get("Location"); loc != "" && r.StatusCode/100 == 3 {
			u, err := r.Request.URL.Parse(loc)
			if err != nil || !isLoopback(u) {
				return r
			}
			r = c.Get(u.String())
			continue
		}
		f, err := ParseAutoForm(r)
		if err != nil || !f.isSAML() {
			return r
		}
		r = submitForm(c, r, f)
	}
	c.t.Fatalf("FollowSAML: more than 20 steps, last %s %s", r.Request.Method, r.Request.URL)
	return nil
}

func isLoopback(u *url.URL) bool {
	ip := net.ParseIP(u.Hostname())
	return u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback())
}

// submitForm sends f as a browser on page would.
func submitForm(c *Client, page *Response, f *AutoForm) *Response {
	c.t.Helper()
	if f.Method == http.MethodGet {
		u, _ := url.Parse(f.Action)
		u.RawQuery = f.Fields.Encode()
		return c.Get(u.String())
	}
	origin := page.Request.URL.Scheme + "://" + page.Request.URL.Host
	return postFrom(c, origin, f.Action, f.Fields)
}

// postFrom posts fields to action with the Origin of the page that holds
// the form, which for SAML bindings is another site than the action's.
func postFrom(c *Client, origin, action string, fields url.Values) *Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, action, strings.NewReader(fields.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	return c.Do(req)
}

// excerpt shortens a page for a failure message.
func excerpt(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}
