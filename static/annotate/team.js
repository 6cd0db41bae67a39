// The team page: after htmx swaps a person's row, the change is announced in the page's
// one live region (#team-status, from the response's "team-status" event) and focus goes
// back to the control of the new row that had it (same id), else the row's first button,
// so a keyboard or screen-reader user stays where they were. A refusal (a 400) leaves the
// row as it was and its message is announced.
(function () {
  "use strict";

  var focusedId = null;

  function status(text) {
    var region = document.getElementById("team-status");
    if (region) region.textContent = text;
  }

  document.addEventListener("htmx:beforeRequest", function () {
    status("");
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.id || target.id.indexOf("person-") !== 0) return;
    var active = document.activeElement;
    focusedId = active && target.contains(active) && active.id ? active.id : null;
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target || !target.id || target.id.indexOf("person-") !== 0) return;
    var row = document.getElementById(target.id);
    if (!row) return;
    var again = focusedId && document.getElementById(focusedId);
    var focus = again && row.contains(again) ? again : row.querySelector("button, select");
    if (focus) focus.focus();
  });

  document.addEventListener("team-status", function (event) {
    status((event.detail && event.detail.message) || "");
  });

  document.addEventListener("htmx:responseError", function (event) {
    status(event.detail.xhr.responseText || "The request failed.");
  });

  document.addEventListener("htmx:sendError", function () {
    status("The server could not be reached; nothing was changed.");
  });
})();
