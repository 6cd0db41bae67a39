// Keyboard labelling: one key, one htmx request. Also measures the time from showing a
// sentence to labelling it. No inline script, so it runs under a strict CSP.
(function () {
  "use strict";

  var shownAt = performance.now();
  var KEYS = { "1": "1", "2": "2", "3": "3", "s": "s", "S": "s", "Enter": "Enter" };
  // With Alt held the key a layout types can differ (Option+1 is "¡" on a Mac), so the
  // Alt setting reads the physical key instead.
  var CODES = {
    Digit1: "1", Digit2: "2", Digit3: "3", Numpad1: "1", Numpad2: "2", Numpad3: "3",
    KeyS: "s", Enter: "Enter", NumpadEnter: "Enter", KeyZ: "z", Backspace: "Backspace",
    KeyG: "g", KeyE: "e", Slash: "?"
  };

  // The annotator's setting (WCAG 2.1.4): "keys" (single keys), "alt" (only with Alt
  // held) or "off". The page carries it; the swapped card does not need to.
  function shortcuts() {
    var layout = document.querySelector("[data-shortcuts]");
    return (layout && layout.getAttribute("data-shortcuts")) || "keys";
  }

  // Screen readers announce aria-keyshortcuts, so they say what the setting makes true.
  function describeShortcuts() {
    var mode = shortcuts();
    document.querySelectorAll("[data-key]").forEach(function (element) {
      var key = element.getAttribute("data-key");
      var keys = key === "z" ? ["Z", "Backspace"] : [key === "s" || key === "e" ? key.toUpperCase() : key];
      if (mode === "off") element.removeAttribute("aria-keyshortcuts");
      else element.setAttribute("aria-keyshortcuts", keys.map(function (k) {
        return mode === "alt" ? "Alt+" + k : k;
      }).join(" "));
    });
  }

  // The key an event stands for under the setting, or null when it is not a shortcut.
  function shortcutKey(event) {
    var mode = shortcuts();
    if (mode === "off" || event.ctrlKey || event.metaKey || event.repeat) return null;
    if (mode === "alt") return event.altKey ? CODES[event.code] || null : null;
    return event.altKey ? null : event.key;
  }

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
    // A key pressed just after a swap may reach a form htmx has not processed yet; a
    // click would then submit it natively and reload the page.
    if (window.htmx && button.form) window.htmx.process(button.form);
    button.click();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (isTyping(event.target)) return;
    var key = shortcutKey(event);
    if (key === null) return;
    var handled = false;
    // My labels and the article page: 1, 2, 3, s change the row that holds the focus.
    var row = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("[data-row-keys]") : null;
    if (row && KEYS[key] && key !== "Enter") {
      var choice = row.querySelector('.label-change [data-key="' + KEYS[key] + '"]');
      if (choice && !choice.disabled) {
        if (window.htmx) window.htmx.process(choice.form);
        choice.click();
        event.preventDefault();
      }
      return;
    }
    if (KEYS[key]) {
      // Enter on a focused button or link keeps its native meaning, except in the card.
      var active = document.activeElement;
      if (key === "Enter" && active && active !== document.body && !active.closest("#sentence-card")) return;
      handled = press('#label-form [data-key="' + KEYS[key] + '"]');
    } else if (key === "z" || key === "Z" || key === "Backspace") {
      handled = press("#undo-form button");
    } else if (key === "e" || key === "E") {
      // The adjudication page's evaluation-item toggle (the labelling page has none).
      handled = press("#evaluation-form button");
    } else if (key === "x" || key === "X") {
      handled = press("#example-form button");  // the adjudication page only
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

  // Whether focus was in the card (a clicked button) or nowhere (a key pressed on the
  // page) before the card was swapped: then it goes to the new card, not the page body.
  var focusWasInCard = false;
  // A changed row (My labels, the article page) replaces itself: the focus goes to the
  // new row when it was in the old one, so the next key changes the same row again.
  var focusedRowId = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (event.detail.shouldSwap && target && target.hasAttribute && target.hasAttribute("data-row-keys")) {
      var inRow = document.activeElement && target.contains(document.activeElement);
      focusedRowId = inRow ? target.id : null;
    }
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (focusedRowId === null) return;
    var row = document.getElementById(focusedRowId);
    focusedRowId = null;
    if (!row) return;
    describeShortcuts();
    var errors = document.getElementById("errors");
    if (errors) errors.textContent = "";
    row.focus({ preventScroll: true });
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "sentence-card") {
      var active = document.activeElement;
      focusWasInCard = !active || active === document.body || !!active.closest("#sentence-card");
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "sentence-card") {
      shownAt = performance.now();
      var errors = document.getElementById("errors");
      if (errors) errors.textContent = "";
      describeShortcuts();
      var card = document.getElementById("sentence-card");
      var active = document.activeElement;
      var lost = !active || active === document.body || !active.isConnected;
      if (card && (focusWasInCard || lost)) card.focus({ preventScroll: true });
    }
  });
  describeShortcuts();
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
