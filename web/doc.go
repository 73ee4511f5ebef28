// Package web owns what every browser route of Portcullis shares: the
// middleware (request ids, the client IP, security headers, CSRF protection,
// body limits, panic recovery, access logs, metrics), page rendering from
// package templates, error pages and the static assets.
//
// Layer 1: web imports only the standard library, Prometheus, templates,
// static and layer-0 packages. It never imports session or store; handlers
// that know the user fill [Page.User] themselves.
//
// # Wiring
//
// [Chain] lists middleware outermost first. A server wires, for example:
//
//	h := web.Chain(mux,
//		web.AssignRequestID,
//		web.ResolveClientIP(trusted),
//		web.AccessLog(logger),
//		web.Recover(logger, rd),
//		web.SecurityHeaders(web.HeaderOptions{HSTS: https}),
//		web.LimitBody(1<<20),
//		metrics.Middleware, // innermost: it reads r.Pattern set by mux
//	)
//
// and wraps each browser form route with [CSRF.Protect]. The SAML ACS and SLO
// endpoints and the JSON/SCIM APIs are left unwrapped: signatures and
// credentials protect them, and cross-site POSTs are their normal input.
//
// # Decisions
//
// CSRF: each browser gets a random 32-byte secret in the HttpOnly,
// SameSite=Lax cookie "portcullis_csrf". The form token is
// HMAC-SHA256(server key, secret), so a token cannot be minted from a cookie
// planted by a sibling subdomain without the server key, and is XOR-masked
// with a fresh pad on every render so that compressed pages do not leak it
// (BREACH). Unsafe methods must carry it in the "_csrf" form field or the
// X-CSRF-Token header; it is compared in constant time. Independently,
// [net/http.CrossOriginProtection] rejects requests the browser marks as
// cross-site (Sec-Fetch-Site, or Origin for older browsers). Both failures
// answer 403 "This form has expired. Reload the page and try again." The
// cookie is created on the first GET, so the login page works on a first
// visit.
//
// Headers: the Content-Security-Policy is default-src 'self' with no inline
// script or style, frame-ancestors 'none' and form-action 'self'. A handler
// that must post a form to another origin (the SAML HTTP-POST binding) adds
// that one origin with [AllowFormAction] for that one response, and submits
// with /static/autosubmit.js rather than an inline script. The
// Referrer-Policy is strict-origin-when-cross-origin, not no-referrer: with
// no-referrer browsers send "Origin: null" on our own form posts, which would
// defeat the Origin check of older browsers; strict-origin-when-cross-origin
// still never sends a path or query (a SAMLRequest, a return URL) to another
// origin. HSTS is sent only when the base URL is https, and without
// includeSubDomains, which is the operator's call for their domain. The
// answers to a reverse proxy's forward-auth check get the headers unless
// they are 200 ([SecurityHeadersUnlessOK]): a proxy keeps a 200 to itself,
// and passes any other answer to the browser.
//
// Access log: one line per request at info level, except what the server
// deems routine ([AccessLogExcept]): forward-auth checks answered 200, at
// debug level.
//
// Client IP: forwarded headers are believed only from a configured trusted
// proxy. X-Forwarded-For is read from the right, skipping trusted addresses;
// the first untrusted address is the client, because everything to its left
// was written by the client itself. X-Real-IP is used only when no
// X-Forwarded-For arrived.
//
// SAML POST pages: saml_post.html is executed once per form (URL, heading,
// message, field names) with random markers where the fields' attributes
// go, and kept in pieces that a request joins with its own attributes: the
// same bytes, without the template's cost on every SSO. Only the embedded
// saml_post.html and layout.html are kept so: an operator's might use a
// field's value in ways no marker shows. A template that writes something
// of a request's own (CSRF token, request ID, a field's Value) is detected
// by its markers and executed every time. At most 1024 forms are kept, none
// over 2 KB, since Bounce posts again whatever field names a cross-site
// POST had.
package web
