// The attempt page's clock: counts down from the server's figure; at zero the page reloads and the
// server (which enforces the limit) shows the submitted attempt. Nothing here decides anything.
(function () {
  "use strict";
  var clock = document.getElementById("attempt-clock");
  if (!clock) { return; }
  var left = parseInt(clock.getAttribute("data-remaining"), 10);
  var shown = clock.querySelector("strong");
  var started = Date.now();
  function tick() {
    var remaining = Math.max(0, left - Math.floor((Date.now() - started) / 1000));
    var minutes = Math.floor(remaining / 60), seconds = remaining % 60;
    shown.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
    if (remaining <= 60) { clock.classList.add("attempt-clock-warning"); }
    if (remaining === 0) { window.setTimeout(function () { window.location.reload(); }, 2000); return; }
    window.setTimeout(tick, 1000);
  }
  tick();
})();
