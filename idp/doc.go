// Package idp is the SAML 2.0 identity provider: metadata, SP-initiated SSO
// over HTTP-Redirect and HTTP-POST, IdP-initiated launch, single logout,
// assertion building and attribute mapping, and the per-app settings
// (AppSettings). It is built on github.com/crewjam/saml through its seams
// (ServiceProviderProvider, SessionProvider, AssertionMaker,
// SessionParticipantTracker, SessionInvalidator, ReplayCache, ResponseWriter
// and the page templates), never a fork of it.
//
// Routes (DESIGN.md §4): GET /saml/metadata; GET,POST /saml/sso; GET
// /saml/sso/resume?key=K (a request parked while the user signs in); GET,POST
// /saml/slo; GET /saml/apps/{name}/launch. The portal gets AppsFor (its app
// list) and SingleLogout (its /logout hook).
//
// Decisions:
//   - A crewjam IdentityProvider is built per request from Keys: the active
//     key signs, every published certificate is in metadata (a rotation's
//     next key before it signs, retiring ones after), so a rotation is seen
//     by the next request on every node.
//   - serveAuthn does what crewjam's ServeSSO does, step by step with its
//     exported pieces (NewIdpAuthnRequest, Validate, the SessionProvider,
//     the AssertionMaker, CheckRequestSubject, SendErrorResponse), for two
//     reasons: crewjam's time windows are package globals (90 s back, 180 s
//     ahead), and a request resumed after a sign-in must be judged as of its
//     arrival. saml.clock_skew is applied to IssueInstant, both ways, against
//     the arrival time; crewjam then validates as of IssueInstant itself.
//   - Before crewjam sees a message, SAMLRequest is bounded to 256 KiB both
//     as received and after inflating (crewjam inflates up to 1 MiB and does
//     not bound the form field), and any DOCTYPE or entity declaration is
//     refused (XXE, billion laughs), for AuthnRequests, LogoutRequests and
//     stored app metadata alike. DecodeRequest has a fuzz target.
//   - Request IDs are recorded once answered (after sign-in, so the parked
//     copy can come back) in the session backend (Claim, so across nodes),
//     under crewjam's key "AuthnRequest:<issuer> <ID>", until IssueInstant +
//     clock_skew. Unsigned requests are recorded too: a forger can mint new
//     IDs, but a captured request replayed as is is refused everywhere the
//     same way. LogoutRequest IDs go through crewjam's ReplayCache.
//   - Not signed in: the request (raw query or SAML form fields, exactly as
//     received, so signatures verify again) is parked under a random key for
//     ParkTTL and the browser goes to /login?return=<resume path>. It is
//     deleted once answered. It is not bound to the browser: whoever resumes
//     it gets an assertion for their own session, which the request URL
//     itself would give them anyway. Only a request that passed validation
//     is parked, and at most MaxParkedBytes of it, since anyone may send
//     requests for an app that does not sign them.
//   - ForceAuthn sends the user to /login?prompt=login and accepts only a
//     session whose AuthTime is after the request arrived. IsPassive never
//     shows a page: NoPassive when a sign-in, a re-sign-in or a password
//     change would be needed. A user with password_reset_required goes to
//     /password first.
//   - Access: a user may use an app when in one of its Groups (names
//     compared without case; "*" is everyone), or when the app is in a shared
//     folder shared with the user or one of their groups (folders are read
//     only when groups do not decide). Otherwise a 403 "not assigned" page,
//     even for IsPassive: a refusal never posts a Response. The app's MFA
//     policy belongs to the StepUp seam, which may answer first.
//   - NameID per AppSettings: email (emailAddress), persistent
//     (base64url(HMAC-SHA256(PseudonymKey, "appID|userID"))), transient
//     (random, kept per session and app), unspecified (the email);
//     NameIDAttribute ("email", "id" or a directory attribute) overrides the
//     value. The admin's choice wins over an AuthnRequest's NameIDPolicy.
//   - AuthnContextClassRef: the REFEDS MFA profile once the session used a
//     second factor, PasswordProtectedTransport for a password, unspecified
//     for an upstream IdP. RequestedAuthnContext is enforced by crewjam
//     (NoAuthnContext), with REFEDS MFA ranked above PasswordProtectedTransport
//     and below the certificate classes. An "amr" attribute lists the RFC
//     8176 methods.
//   - Attributes use the basic name format, leave out empty values, and send
//     groups as one multi-valued attribute. Assertions last
//     assertion_lifetime (Conditions and the bearer SubjectConfirmation).
//   - Signatures are RSA-SHA256 with exclusive c14n, on the assertion, the
//     Response or both per app, placed after the Issuer. Requests signed with
//     SHA-1 are refused. The IdP writes a Response's XML itself (xmlOut)
//     from crewjam's Assertion and Response values, in exclusive canonical
//     form for each digest and as crewjam's elements serialize for the
//     wire, instead of building etree trees for goxmldsig to copy and
//     canonicalize: it made every element, so the canonical form follows by
//     construction. The bytes sent are those the etree code made (the golden
//     file did not change), except that CR, and TAB and LF in attribute
//     values, are character references, without which a parser normalizes
//     them and the signature fails. Encryption wraps the key with
//     rsa-oaep-mgf1p (SHA-1 digest, what every SP decrypts) and the
//     assertion with AES-256-GCM or AES-128-CBC; an app set to encrypt
//     without an encryption key in its metadata gets no Response.
//   - Responses go to HTTP-POST ACS endpoints from the app's metadata only
//     (StrictACSBinding), on saml_post.html: /static/autosubmit.js submits it
//     (the CSP allows no inline script), web.AllowFormAction opens the ACS
//     origin for that page only, and a Continue button works without
//     scripts. RelayState goes back unchanged and is never a redirect target.
//   - App metadata is parsed once per (app ID, UpdatedAt, metadata, settings),
//     read from the store on every request, so a refreshed certificate is
//     used at once on every node.
//   - Single logout ends the Portcullis session first, whatever happens next.
//     The apps are then logged out one at a time, each by crewjam (its signed
//     LogoutRequest, SOAP back channel with BackChannelTimeout where the app
//     offers one, else the browser), with the chain's progress kept in the
//     session backend: an app that answers wrongly, has no SLO endpoint or
//     never answers (the browser comes back to /saml/slo without a message)
//     is marked not logged out and the chain goes on. IdP-initiated logout
//     ends on saml_logout.html with each app's status; SP-initiated logout
//     ends with the LogoutResponse to the sender, PartialLogout when an app
//     failed. A LogoutRequest from an app that is not a participant of the
//     session it names is answered Requester and ends nothing.
//   - A LogoutRequest posted from another site (HTTP-POST binding) arrives
//     without the session cookie, which is SameSite=Lax. Rather than answer
//     that there was nothing to end, the gateway posts the same form again
//     from its own page (marked so it happens once): that same-site POST
//     carries the cookie. The chain's own cookie is SameSite=None over https
//     for the apps' LogoutResponses.
//   - Audit events: saml.sso (app, user, NameID, outcome), saml.sso.refused
//     (the precise reason), saml.slo (each app's outcome), written before
//     the answer leaves (on SQLite, committed together with those of
//     concurrent requests: store/sqlstore's group commit). A successful
//     SSO's event is queued before the Response is signed and committed
//     after (store.EventQueue), so that the events of SSOs signing meanwhile
//     share its commit; if sealing then fails, the event is withdrawn, or,
//     when another request's commit has already taken it, stays in the trail
//     followed by the failure event. The browser sees a generic message and
//     the request id. A backend that is down gives 503, never an assertion.
//
// idp is layer 2: it imports web, session, store, keys and audit, and no
// other domain package.
package idp
