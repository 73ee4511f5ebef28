// Package enterprise serves the LastPass-compatible Enterprise API: one
// dispatcher on POST /enterpriseapi.php (and /), where cmd selects the
// command and cid + provhash authenticate (lastpass-apis.md §1–§3, §7).
// Tools written for LastPass (directory connectors, SIEM collectors,
// offboarding scripts) work by changing the URL, cid and secret. It is a
// domain package (layer 2): it acts on the one directory through store,
// ends sessions through a Revoker, and removes MFA enrolments through the
// ResetMFA seam the server wires to package mfa.
//
// Decisions (the spec's ambiguous points, §9, and our own):
//   - Envelope (§1.2): a body that starts with { is JSON whatever the
//     Content-Type; anything else is form fields, whose data may be JSON
//     text. cid is a number or a numeric string; unknown keys are ignored;
//     user and apiuser may be top-level. apiuser names the actor of the
//     audit events ("api:NAME"; "api" without it).
//   - Authentication: the provhash is stored as HMAC-SHA256 under a key
//     derived from the master secret and compared in constant time. An
//     unknown cid, a wrong provhash and an unreadable store all get the
//     same HTTP 200 Authorization Error XML, byte for byte (§1.3). The cid
//     is enterprise.cid, else the one `gateway api enterprise-secret`
//     chose and stored with the secret.
//   - Answers are compact JSON in a fixed key order under LastPass's
//     Content-Type (text/xml;charset=UTF-8), HTTP 200 for every logical
//     outcome; an empty object is [] as PHP writes it. 429 when a client IP
//     passes enterprise.rate_limit requests a second (per node), or
//     updateemail passes 10 a second for one old email (§2.3); 413 over
//     enterprise.max_body_bytes (32 MiB: a batch of 10,000 users is about
//     1.5 MB); 500/503 for faults, the cause in the log only.
//   - Times are "YYYY-MM-DD HH:MM:SS" in enterprise.time_zone (default
//     America/New_York, LastPass's reporting zone), for every command.
//   - batchadd (§2.1) is an upsert, all or nothing: every entry is checked
//     first, and a bad one (or a username given twice) fails the batch
//     naming it. For an existing user
//     fullname, attribs (merged) and password change only when given; when
//     groups is given the user's groups become exactly those. Groups are
//     created on first use; memberships are written per group in large
//     statements, so the group's version moves on once per batch. A password is temporary (must be changed at
//     the next sign-in) unless password_reset_required is false.
//     duousername and securidusername are kept as attributes.
//   - deluser (§2.4): 0 disables and ends the sessions; 1 and 2 delete the
//     user (a gateway has no personal account to leave behind); 3 deletes
//     only a user who has never signed in ("uninvite").
//   - disableuser/enableuser (§2.5) take an array of emails, an object with
//     username, or an array of those; unknown users are named in error.
//   - updateemail renames the login at once (LastPass waits for the next
//     login); sessions stay, as they belong to the user, not the name.
//   - resetpassword: no mail is sent; the user's sessions end on every node
//     and their next sign-in must choose a new password, so SSO and
//     forward-auth stay closed until they do. requiremasterpasswordchange
//     requires the change without ending sessions. reinviteuser records an
//     event (the gateway sends no invitations).
//   - disablemultifactor removes every MFA enrolment (as `gateway users
//     reset-mfa`); it answers OK also when there was none.
//   - batchchangegrp (§2.7) applies every entry whose user exists and names
//     the others in errors with WARN, in one transaction; groups are created
//     on first add; removing a membership that does not exist is no error.
//   - The read commands' decisions are at the top of their files, in short:
//     getuserdata (userdata.go) streams every matching user when there is
//     no pagesize, with exact total and count, Users [] when empty, no
//     invited key (there is no invitation state), multifactor naming the
//     strongest confirmed factor; getsfdata/getdetailedsfdata (folders.go)
//     report the access folders grant, groups expanded to their users,
//     permission flags as 0/1; pushsitestousers shares an existing app
//     through a folder (there is no vault to push a password into);
//     reporting (reporting.go) pages newest first by time with a
//     microsecond next cursor that ends pages between seconds, names
//     actions as LastPass does where §7.2 has a name (actions.go) and API
//     actors "API" or "API: NAME" (§9.10); expiredmasterpwlist
//     (expired.go) lists active users who must change their password
//     before they sign in again.
//   - Every read command records an audit event of its own (api.getuserdata,
//     api.getsfdata, api.reporting, ...), as LastPass logs "Get User Data".
package enterprise
