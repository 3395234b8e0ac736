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

  onReady(function () {
    syncTimer();
    tick();
    window.setInterval(tick, 1000);
  });
})();
