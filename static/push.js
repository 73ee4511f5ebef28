// Lets a push page move on by itself. The page marks an element with
// data-push-poll (the status URL) and data-push-form (the id of the form to
// submit); this script fetches the status about once a second and submits
// the form when the answer says "done" (the push was answered or expired,
// the device enrolled). The server then decides what happens, so the script
// holds no logic of its own beyond the countdown in [data-push-countdown].
// The Content-Security-Policy allows scripts from 'self' only, never inline;
// without JavaScript the form's own button does the same.
(function () {
  "use strict";
  var status = document.querySelector("[data-push-poll]");
  if (!status) {
    return;
  }
  var url = status.getAttribute("data-push-poll");
  var form = document.getElementById(status.getAttribute("data-push-form"));
  var countdown = status.querySelector("[data-push-countdown]");
  var inFlight = false;
  var finished = false;
  var timer;

  function stop() {
    finished = true;
    window.clearInterval(timer);
  }

  function show(s) {
    if (countdown && typeof s.expires_in === "number") {
      countdown.textContent = String(s.expires_in);
    }
    if (s.done) {
      stop();
      form.submit();
    }
  }

  function poll() {
    if (inFlight || finished) {
      return;
    }
    inFlight = true;
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (resp) {
        var type = resp.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") !== 0) {
          // A sign-in page, a throttle or an error page: let the server
          // show it in full.
          stop();
          window.location.reload();
          return null;
        }
        return resp.json();
      })
      .then(function (s) {
        if (s) {
          show(s);
        }
      })
      .catch(function () {
        // A network blip: the next tick tries again.
      })
      .then(function () {
        inFlight = false;
      });
  }

  timer = window.setInterval(poll, 1000);
  poll();
})();
