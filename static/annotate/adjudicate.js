// The adjudication page's focus: after a settle or an undo swaps the card, focus goes to
// the new card when it was in the old one or nowhere (a key pressed on the page, or a
// button in the settled panel, which the answer replaces), so a screen reader follows
// the work and the next key still lands. The keys themselves are label.js's.
(function () {
  "use strict";

  var focusWasLost = false;
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "adjudication-card") {
      var active = document.activeElement;
      focusWasLost = !active || active === document.body || !!active.closest("#adjudication-card, #settled-panel");
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.target || event.detail.target.id !== "adjudication-card") return;
    var errors = document.getElementById("errors");
    if (errors) errors.textContent = "";
    var card = document.getElementById("adjudication-card");
    var active = document.activeElement;
    var lost = !active || active === document.body || !active.isConnected;
    if (card && (focusWasLost || lost)) card.focus({ preventScroll: true });
  });
})();
