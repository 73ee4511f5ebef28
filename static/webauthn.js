// Security keys and passkeys (WebAuthn) on Portcullis pages. The
// Content-Security-Policy allows scripts from 'self' only, so the pages
// carry no code: a form marked data-webauthn="register", "verify" or
// "passkey" runs a ceremony instead of submitting.
//
//  1. Its fields (the CSRF token, the continuation, a name...) are posted to
//     the URL in data-begin, which answers {"ceremony", "publicKey"}.
//  2. The browser creates or gets a credential with those options.
//  3. The fields, the ceremony and the credential are posted to the form's
//     action, which answers {"redirect"}, followed here, or {"error"}.
//
// Binary members travel as base64url both ways, as go-webauthn writes and
// reads them. Errors are shown in the role="alert" element named by
// data-error, so screen readers announce them; the button gets the focus
// back. An answer that is not JSON (sign in first, too many attempts, the
// page has expired) reloads the page, which then says what is wrong.
// Elements marked data-passkey are shown only where the browser has
// WebAuthn.
(function () {
  "use strict";

  function toBytes(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    var bin = atob(b64 + "===".slice((b64.length + 3) % 4));
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out;
  }

  function toBase64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      var out = { type: d.type, id: toBytes(d.id) };
      if (d.transports) {
        out.transports = d.transports;
      }
      return out;
    });
  }

  // creationOptions turns the server's options into what
  // navigator.credentials.create takes.
  function creationOptions(pk) {
    var o = Object.assign({}, pk);
    o.challenge = toBytes(pk.challenge);
    o.user = Object.assign({}, pk.user, { id: toBytes(pk.user.id) });
    o.excludeCredentials = descriptors(pk.excludeCredentials);
    return o;
  }

  // requestOptions does the same for navigator.credentials.get.
  function requestOptions(pk) {
    var o = Object.assign({}, pk);
    o.challenge = toBytes(pk.challenge);
    o.allowCredentials = descriptors(pk.allowCredentials);
    return o;
  }

  // credentialJSON is the PublicKeyCredential as go-webauthn parses it.
  function credentialJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toBase64url(r.clientDataJSON) }
    };
    if (cred.authenticatorAttachment) {
      out.authenticatorAttachment = cred.authenticatorAttachment;
    }
    if (r.attestationObject) {
      out.response.attestationObject = toBase64url(r.attestationObject);
      if (r.getTransports) {
        out.response.transports = r.getTransports();
      }
    } else {
      out.response.authenticatorData = toBase64url(r.authenticatorData);
      out.response.signature = toBase64url(r.signature);
      if (r.userHandle) {
        out.response.userHandle = toBase64url(r.userHandle);
      }
    }
    return out;
  }

  // Reload marks an answer the page cannot show: the page is loaded again.
  function Reload() {}

  function post(url, fields) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      body: new URLSearchParams(fields)
    }).then(function (resp) {
      var type = resp.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") !== 0) {
        throw new Reload();
      }
      return resp.json().then(function (body) {
        if (!resp.ok || body.error) {
          throw new Error(body.error || "Something went wrong. Try again.");
        }
        return body;
      });
    });
  }

  // message says what went wrong in words, for the errors the browser
  // raises itself (WebAuthn §5.1.3, §5.1.4).
  function message(err, kind) {
    switch (err && err.name) {
      case "NotAllowedError":
        return "The request was cancelled or timed out. Try again when you are ready.";
      case "InvalidStateError":
        return kind === "register" ? "This security key or passkey is registered already." :
          "This security key or passkey cannot be used here.";
      case "SecurityError":
        return "Security keys and passkeys cannot be used at this address.";
      case "NotSupportedError":
        return "This security key or passkey is not supported. Try another one.";
      case "TypeError":
        return "The server could not be reached. Check your connection and try again.";
    }
    return (err && err.message) || "Something went wrong. Try again.";
  }

  function show(box, text) {
    if (!box) {
      return;
    }
    box.textContent = text;
    box.className = text ? "alert alert-error" : "";
  }

  function ceremony(form, fields) {
    var kind = form.getAttribute("data-webauthn");
    return post(form.getAttribute("data-begin"), fields).then(function (begun) {
      var asked = kind === "register" ?
        navigator.credentials.create({ publicKey: creationOptions(begun.publicKey) }) :
        navigator.credentials.get({ publicKey: requestOptions(begun.publicKey) });
      return asked.then(function (cred) {
        if (!cred) {
          throw new Error("No security key or passkey answered. Try again.");
        }
        fields.set("ceremony", begun.ceremony);
        fields.set("credential", JSON.stringify(credentialJSON(cred)));
        return post(form.action, fields);
      });
    });
  }

  function attach(form) {
    var kind = form.getAttribute("data-webauthn");
    var box = document.getElementById(form.getAttribute("data-error"));
    var button = form.querySelector("[type=submit]");
    if (!window.PublicKeyCredential || !navigator.credentials) {
      show(box, "This browser cannot use security keys or passkeys. Use another browser, or another way to verify.");
      if (button) {
        button.disabled = true;
      }
      return;
    }
    var busy = false;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (busy) {
        return;
      }
      busy = true;
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      show(box, "");
      ceremony(form, new FormData(form)).then(function (done) {
        window.location.assign(done.redirect);
      }).catch(function (err) {
        if (err instanceof Reload) {
          window.location.reload();
          return;
        }
        busy = false;
        button.disabled = false;
        button.removeAttribute("aria-busy");
        show(box, message(err, kind));
        button.focus();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.PublicKeyCredential) {
      document.querySelectorAll("[data-passkey]").forEach(function (el) {
        el.hidden = false;
      });
    }
    document.querySelectorAll("form[data-webauthn]").forEach(attach);
  });
})();
