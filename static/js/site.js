/* Pizarra's own scripts, one file for every page (one request, cached for a year under its fingerprint).
   Each part does nothing on a page without its elements. SENCE's trip (sence.js) stays apart: the trip pages
   load it alone. */

// Wide tables (admin pages on a phone): a table that overflows its box gets a visible hint that it scrolls
// sideways, and becomes keyboard-focusable (a scrollable region must be reachable without a mouse).
(function () {
  "use strict";

  function mark(wrap) {
    var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
    wrap.classList.toggle("scrolls", scrolls);
    if (scrolls) {
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      if (!wrap.hasAttribute("aria-label")) {
        var caption = wrap.querySelector("caption");
        wrap.setAttribute("aria-label", caption ? caption.textContent.trim() : "Tabla desplazable");
      }
    } else if (wrap.getAttribute("role") === "region") {
      wrap.removeAttribute("tabindex");
      wrap.removeAttribute("role");
    }
  }

  function markAll() {
    document.querySelectorAll(".table-wrap").forEach(mark);
  }

  document.addEventListener("DOMContentLoaded", markAll);
  document.addEventListener("htmx:afterSettle", markAll);
  window.addEventListener("resize", markAll);
})();

// A course's section tabs scroll sideways on a phone (app.css): bring the current tab into view, so the
// participant of a long row (SIC, Cierre) sees where they are without scrolling the row themselves.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".tabs").forEach(function (tabs) {
      var current = tabs.querySelector("[aria-current=page]");
      if (!current || tabs.scrollWidth <= tabs.clientWidth) {
        return;
      }
      var box = tabs.getBoundingClientRect(), tab = current.getBoundingClientRect();
      tabs.scrollLeft += tab.left - box.left - (box.width - tab.width) / 2;
    });
  });
})();

/* Course player: tick the SENCE timer between polls (the server's fragment stays the truth), put the warning
   in the page title for background tabs, and check an upload's size before sending it. */
(function () {
  "use strict";
  if (window.pizarraPlayer) { return; }
  window.pizarraPlayer = true;

  var offset = 0; /* server clock minus browser clock, from the last fragment */

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function clock(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    return Math.floor(s / 3600) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
  }

  function timerBox() { return document.getElementById("sence-timer"); }

  function syncTimer() {
    var box = timerBox();
    if (!box) { return; }
    var state = box.querySelector("[data-timer-status]");
    var alertTitle = state && state.getAttribute("data-page-title");
    var base = box.getAttribute("data-base-title") || document.title;
    document.title = alertTitle ? alertTitle + " · " + base : base;
    var dl = box.querySelector("[data-server-now]");
    if (dl) { offset = Date.parse(dl.getAttribute("data-server-now")) - Date.now(); }
  }

  function tick() {
    var box = timerBox();
    var dl = box && box.querySelector("[data-server-now]");
    if (!dl) { return; }
    var now = Date.now() + offset;
    var elapsed = dl.querySelector("[data-clock=elapsed]");
    var left = dl.querySelector("[data-clock=left]");
    if (elapsed) { elapsed.textContent = clock(now - Date.parse(dl.getAttribute("data-started"))); }
    if (left) { left.textContent = clock(Date.parse(dl.getAttribute("data-deadline")) - now); }
  }

  /* A lesson link answered 403 (the session ended since the last poll): ask the timer now. */
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.status === 403 && timerBox()) {
      document.body.dispatchEvent(new CustomEvent("sence:changed", { bubbles: true }));
    }
  });

  document.addEventListener("htmx:afterSettle", syncTimer);

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) { return; }
    var file = input.files && input.files[0];
    var tooBig = file && file.size > Number(input.getAttribute("data-max-bytes"));
    input.setCustomValidity(tooBig ? input.getAttribute("data-too-big") : "");
    if (tooBig) { input.reportValidity(); }
  });

  function onReady(fn) {
    if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", fn); } else { fn(); }
  }

  var ticking = null;

  /* Only a page with a timer ticks (every page loads this file). */
  function startTicking() {
    if (ticking === null && timerBox()) { ticking = window.setInterval(tick, 1000); }
  }

  document.addEventListener("htmx:afterSettle", startTicking);

  onReady(function () {
    syncTimer();
    tick();
    startTicking();
  });
})();
