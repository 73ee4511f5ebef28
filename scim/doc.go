// Package scim serves SCIM 2.0 (RFC 7643, RFC 7644) on /scim/v2, and on
// LastPass's path form /scimapi/{cid} (lastpass-apis.md §4.1), so that
// Okta, Entra ID, OneLogin, JumpCloud and PingOne provision users and
// groups into the directory as they are. It is a domain package (layer 2):
// it imports store, web and audit, never another domain package; the
// server wires it with a session revoker and a password hasher.
//
// There is one directory. A SCIM User is a store.User (userName is the
// login email, active is !Disabled, displayName is the directory's name,
// password sets the password login); a SCIM Group is a store.Group whose
// members drive app access and forward-auth rules like any other group.
// Every change is written with its audit event in one transaction, with
// the actor "scim:TOKEN-NAME".
//
// Decisions:
//   - Authentication is a bearer token from `gateway api scim-token NAME`
//     (token.go): 401 with WWW-Authenticate: Bearer for anything else. A
//     store failure while checking it is a 503, never a pass.
//   - Attributes the directory has no column for (name parts, emails,
//     phone numbers, addresses, the enterprise extension, and attributes
//     this server does not know) are kept verbatim in the user's profile
//     and returned as sent (lastpass-apis.md §4.3: never fail a request
//     because of an unsupported attribute). The usual ones are also copied
//     to directory attributes (given_name, family_name, department, ...)
//     for SAML attribute mappings. Groups keep only displayName,
//     externalId and members; other group attributes are accepted and
//     dropped.
//   - userName may change: it renames the login (LastPass refuses renames;
//     Okta and Entra ID send them when a user's email or UPN changes). It
//     stays unique without regard to case: 409 uniqueness otherwise. The
//     same holds for a group's displayName.
//   - A POST with a taken userName is 409 uniqueness, not a silent link:
//     Okta and Entra ID look a user up (filter userName eq) before they
//     create one, and a 409 tells them to.
//   - active=false disables the user and ends their sessions on every node
//     at once (session revocation after the commit). If revocation fails
//     the change still stands and the failure is logged: every request
//     already checks that its user exists and is enabled.
//   - PUT replaces every attribute but active and password, which keep
//     their values when left out (Okta's PUT may omit them). Read-only
//     attributes in a PUT or POST are ignored (RFC 7644 §3.5.1); a PATCH
//     aimed at one (id, meta, groups) is 400 mutability.
//   - PATCH (RFC 7644 §3.5.2) accepts Entra ID's dialect as well as the
//     RFC's: op names in any case, "True"/"False" strings for booleans,
//     paths inside a path-less value object ({"name.givenName": "x"}),
//     extension attributes written flat ("urn:…:User:department"), and
//     `members` removal with the members in value and no filter. An add or
//     replace through a filter that matches nothing, such as
//     `emails[type eq "work"].value` for a user without a work email,
//     appends an element built from the filter's equalities; a remove that
//     matches nothing changes nothing (so a retried request succeeds).
//   - PATCH on a Group answers 204 with the new ETag, unless the request
//     names attributes, then 200 with the group (RFC 7644 §3.5.2 allows
//     both). Member operations are single-row inserts and deletes under the
//     group's row lock: concurrent PATCHes of one group queue rather than
//     lose each other's changes, and adding one member costs the same in a
//     group of ten thousand. Members are Users only: a member value is a
//     user's id, and an id that is no user is 400 invalidValue with nothing
//     changed.
//   - ETags (RFC 7644 §3.14) are weak, W/"N", N the resource's version in
//     the store, which every change of the record moves on (for a group,
//     a request that changes its members moves it on once, however many
//     members it adds or removes). A user's version does not move when only
//     their group memberships change. If-Match is checked inside the
//     transaction that holds the row, so a stale version is always a 412.
//     If-None-Match on a GET answers 304.
//   - Filters support every operator, and, or, not, grouping and value
//     paths (package scim/filter). userName, externalId and id equalities
//     use an index (what Okta and Entra ID send); any other filter scans
//     the users in batches, up to MaxScan users, beyond which it is 400
//     tooMany. Groups are filtered in memory, a displayName equality
//     through the index.
//   - Paging: startIndex below 1 is 1; count is clamped to 0..1000
//     (filter.maxResults), and 1000 when absent. Unfiltered, unsorted user
//     pages use the store's paging; sortBy sorts in memory, missing values
//     last.
//   - The discovery endpoints publish the attribute tables of schema.go,
//     which also drive type checks, case-exactness in filters and
//     mutability, so what is published is what is enforced.
//   - Bulk (RFC 7644 §3.7) runs each operation as its own request in its
//     own transaction, in order; a forward bulkId reference waits until
//     the other operations have run. maxOperations 1000 and maxPayloadSize
//     1 MiB, or the gateway's max_body_bytes when smaller, so that what is
//     advertised can be sent; beyond either, 413.
//   - /Me is 501: SCIM clients here are provisioning systems, not users.
package scim
