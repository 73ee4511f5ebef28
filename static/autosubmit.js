// Submits the form marked data-autosubmit once the page has loaded. SAML
// HTTP-POST binding pages use it because the Content-Security-Policy allows
// scripts from 'self' only, never inline. Without JavaScript the form's own
// button still works.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-autosubmit]");
  if (form) {
    form.submit();
  }
});
