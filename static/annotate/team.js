// The team page's announcements: after htmx swaps a person's row, the change is announced
// in the page's one live region (#team-status), from the response's "team-status" event;
// a refusal (a 400) leaves the row as it was and its text is announced. Focus needs no
// code: each control keeps its id across the swap, and htmx focuses the new element with
// the id of the one that had focus (tests/browser/test_team_browser.py checks it).
(function () {
  "use strict";

  function status(text) {
    var region = document.getElementById("team-status");
    if (region) region.textContent = text;
  }

  document.addEventListener("htmx:beforeRequest", function () {
    status("");
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
