// Package forwardauth puts Portcullis in front of apps that speak no SAML:
// a reverse proxy (nginx, Traefik, Caddy, Envoy) asks it, on every request,
// whether to let the request through, and with which identity.
//
// Endpoints:
//   - GET /auth/request, nginx auth_request: 200 with the identity headers,
//     401 when the browser must sign in or step up (its Location, the
//     /auth/start URL, is where nginx's error_page sends the browser), 403
//     when denied. The original request comes from
//     X-Original-URL (or X-Original-URI with X-Original-Host/-Proto) and
//     X-Original-Method.
//   - GET /auth/forward, Traefik ForwardAuth and Caddy forward_auth: the
//     same, except that sign-in and step-up answer 302 to /auth/start
//     (Caddy passes a 401 to the browser unchanged). The original request
//     comes from X-Forwarded-Method, -Proto, -Host and -Uri.
//   - /auth/envoy/…, Envoy ext_authz in HTTP service mode with path_prefix
//     /auth/envoy: the original method, path and :authority arrive as the
//     request's own; answers as /auth/forward.
//   - GET /auth/start?rd=URL, the browser's way in: signs in (returning
//     here), steps up where the rule asks for two factors, then redirects
//     to URL.
//   - The built-in reverse proxy, for deployments without another proxy:
//     forward_auth.upstreams maps a host to an upstream URL. A request whose
//     Host (without port, any case) is an upstream's host is judged by the
//     same rules, then proxied with the identity headers; sign-in and
//     step-up answer 302 to /auth/start for GET and HEAD and 401 for other
//     methods (a browser cannot replay them), deny 403, a backend failure
//     503, an unreachable upstream 502. Client-sent identity headers (the
//     configured names and any Remote-*, "_" read as "-") and the session
//     cookie are removed; Host is kept as sent; WebSocket and server-sent
//     events pass through. proxy.go lists the decisions.
//
// Decisions:
//   - Forwarded headers are believed only from trusted_proxies; from anyone
//     else the request is answered 400 (never judged on the auth endpoint's
//     own URL), as is a malformed original URL, method or host.
//   - Rules: the first whose host pattern, path pattern and methods all
//     match decides; none matching, forward_auth.default_policy does
//     (default deny, as Authelia). bypass lets the request through without
//     identity headers; one_factor needs a session (and one of the rule's
//     groups, if any); two_factor also needs a second factor per the MFA
//     pipeline (policy package), no older than max_mfa_age if set; deny
//     refuses everyone.
//   - The identity headers (names configurable) carry the user's email as
//     the user name, the email, the display name and the groups joined by
//     commas; control characters are removed from values. A bypassed request
//     gets none.
//   - Without the memo every request re-reads the session and the user
//     (through Current). With it (Memo: Redis sessions and
//     forward_auth.cache, the default) a request of a session the node saw
//     a moment ago is decided from the copy kept then: the user, the
//     user's groups and the session's factors, and the user's enrolled
//     factors once a two_factor rule has read them; the policy (groups,
//     MFA age) is applied anew each time. The copy is coherent: every write
//     to a session or to users, groups, memberships and enrolments, from
//     any node or the CLI, is announced on the session bus (session/redis
//     Bus) and the writer waits until every node has dropped what it
//     changed. So disabling or deleting a user, SCIM active=false, a change
//     of groups, a step-up, a new or removed factor, logout and revocation
//     take effect on the very next request, from any node, either way. A
//     copy also ends at its session's next LastSeen write-back or deadline
//     (Load's own, so the write-back is never skipped) and after
//     DefaultMemoTTL in all cases, the bound for a write the bus cannot
//     see (SQL by hand, a CLI cut off from Redis).
//   - A session backend or store failure answers 503; nginx turns it into
//     a 500. With the memo, a node answers from memory only under the
//     bus's lease: when Redis closes the connection (stopped, restarted)
//     the lease ends at once and the node answers 503 as without it; when
//     Redis goes silent with the connection open (a partition) the node
//     may answer from memory, for sessions valid a moment before, for up
//     to the lease (session/redis DefaultLease, 300ms), then 503. That
//     window is the price of answering without Redis.
//   - Return targets (after sign-in and step-up) are absolute http(s) URLs
//     on a host a rule names explicitly ("*.example.com" names its
//     subdomains) or on an upstream's host; rules with only a path name no
//     host, so they open no redirect. A consequence: a request that needs
//     sign-in or step-up on a host no rule names cannot come back to it, so
//     it is refused (/auth/start answers 400, a step-up 403); name the host.
//   - Methods: the standard ones and extension methods (WebDAV's PROPFIND,
//     MKCOL…) are judged by the rules; anything that is not a method token
//     answers 400.
//   - Answers carry Cache-Control: no-store, so no proxy caches a decision.
//     A 200 answer to a proxy's check (RequestPath, ForwardPath,
//     EnvoyPrefix: IsCheck) carries none of the browser security headers
//     (CSP, X-Frame-Options…), since a proxy reads it and copies only the
//     identity headers onto the request to the app; every other answer,
//     which the proxy may pass to the browser, carries them. A 200 is then
//     less than half the bytes.
//   - The access log records a check answered 200 at debug level, not
//     info: the proxy asks on every request of every app and logs them
//     itself. Refusals and sign-in redirects stay at info, and this
//     package logs why at info (a denial, a password to change).
//
// forwardauth is layer 2: it imports policy, config, web, session and
// store; it meets the MFA pipeline through the MFA interface it declares.
package forwardauth
