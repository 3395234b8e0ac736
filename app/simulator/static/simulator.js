/* Simulator: submit answer forms (like SENCE), count down and expire the login page after 3 minutes.
   A static file, so the pages need no inline script under their CSP. */
(function () {
  "use strict";
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.submit();
  });
  var expire = document.querySelector("form[data-expire-after]");
  if (expire) {
    var seconds = parseInt(expire.getAttribute("data-expire-after"), 10) || 0;
    window.setTimeout(function () { expire.submit(); }, (seconds + 1) * 1000);
  }
  var clock = document.querySelector("[data-countdown]");
  if (clock) {
    var left = parseInt(clock.getAttribute("data-countdown"), 10) || 0;
    var tick = function () {
      var m = Math.floor(left / 60), s = left % 60;
      clock.textContent = m + ":" + (s < 10 ? "0" : "") + s + " minutos";
      if (left > 0) { left -= 1; window.setTimeout(tick, 1000); }
    };
    tick();
  }
})();
