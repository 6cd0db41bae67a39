// Keyboard labelling: one key, one htmx request. Also measures the time from showing a
// sentence to labelling it. No inline script, so it runs under a strict CSP.
(function () {
  "use strict";

  var shownAt = performance.now();
  var KEYS = { "1": "1", "2": "2", "3": "3", "s": "s", "S": "s", "Enter": "Enter" };

  function isTyping(element) {
    if (!element) return false;
    var tag = element.tagName;
    return element.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function toggle(id) {
    var details = document.getElementById(id);
    if (details) details.open = !details.open;
  }

  function press(selector) {
    var button = document.querySelector(selector);
    if (!button || button.disabled) return false;
    button.click();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    if (isTyping(event.target)) return;
    var key = event.key;
    var handled = false;
    if (KEYS[key]) {
      // Enter on a focused button or link keeps its native meaning, except in the card.
      var active = document.activeElement;
      if (key === "Enter" && active && active !== document.body && !active.closest("#sentence-card")) return;
      handled = press('#label-form [data-key="' + KEYS[key] + '"]');
    } else if (key === "z" || key === "Z" || key === "Backspace") {
      handled = press("#undo-form button");
    } else if (key === "?") {
      toggle("keymap");
      handled = true;
    } else if (key === "g" || key === "G") {
      toggle("guidelines");
      handled = true;
    }
    if (handled) event.preventDefault();
  });

  // The browser's measure of reading time travels with the label.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "label-form") {
      event.detail.parameters.spent_ms = String(Math.round(performance.now() - shownAt));
    }
  });
  document.addEventListener("submit", function (event) {
    var field = event.target.querySelector && event.target.querySelector("[data-spent-ms]");
    if (field) field.value = String(Math.round(performance.now() - shownAt));
  });

  // Label responses put the new row on top of the history; it keeps its length.
  function trimHistory() {
    var list = document.getElementById("history-list");
    if (!list) return;
    var length = parseInt(list.getAttribute("data-length"), 10) || 10;
    while (list.children.length > length) list.removeChild(list.lastElementChild);
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "sentence-card") {
      shownAt = performance.now();
      var errors = document.getElementById("errors");
      if (errors) errors.textContent = "";
    }
  });
  document.addEventListener("htmx:oobAfterSwap", trimHistory);
  document.addEventListener("htmx:responseError", function (event) {
    var errors = document.getElementById("errors");
    if (errors) errors.textContent = event.detail.xhr.responseText || "The request failed.";
  });
  document.addEventListener("htmx:sendError", function () {
    var errors = document.getElementById("errors");
    if (errors) errors.textContent = "The server could not be reached; your last key was not saved.";
  });
})();
