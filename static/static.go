// Package static holds the browser assets every Portcullis page shares: the
// stylesheet, the logo (also the favicon) and the one script that SAML
// HTTP-POST pages use to submit themselves. They are embedded so a single
// binary serves them with no CDN and no network fonts; package web serves FS
// under /static/ with content-hashed URLs.
//
// Layer 0: imports nothing of Portcullis.
package static

import "embed"

// FS holds the assets at its root, e.g. "portcullis.css".
//
//go:embed *.css *.svg *.js
var FS embed.FS
