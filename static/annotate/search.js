// The search page's focus: when a swap of the results removed the focused element (the
// "Next results" link), focus goes to the new results, so keyboard and screen reader users
// land on them; after a search from the form, focus stays in the form. The count is
// announced by its own live region (#search-count), filled in by the same response.
(function () {
  "use strict";

  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.target || event.detail.target.id !== "search-results") return;
    var active = document.activeElement;
    var lost = !active || active === document.body || !active.isConnected;
    var results = document.getElementById("search-results");
    if (results && lost) results.focus({ preventScroll: false });
  });
})();
