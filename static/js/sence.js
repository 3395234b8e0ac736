/* SENCE trip: open the named popup, auto-submit the form to SENCE, report the answer to the opener.
   Without JavaScript every step still works in the main window (visible buttons and links). */
(function () {
  "use strict";
  if (window.pizarraSence) { return; }
  window.pizarraSence = true;

  var POPUP = "pizarra_sence";
  var FEATURES = "popup,width=520,height=720";

  function centred() {
    var w = 520, h = 720;
    var left = Math.max(0, Math.round((window.screen.availWidth - w) / 2));
    var top = Math.max(0, Math.round((window.screen.availHeight - h) / 2));
    return FEATURES + ",left=" + left + ",top=" + top;
  }

  /* Course page: a start/close form opens the popup and targets it; blocked popup -> main window. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-sence-popup]")) { return; }
    var flag = form.querySelector("input[name=via_popup]");
    var popup = null;
    try { popup = window.open("", POPUP, centred()); } catch (e) { popup = null; }
    if (popup) {
      form.target = POPUP;
      if (flag) { flag.value = "1"; }
      try { popup.focus(); } catch (e) { /* ignore */ }
      hideNotice();
      /* Let the bar learn of the pending trip, so it can advise if no answer comes (ClaveÚnica sends none). */
      window.setTimeout(function () {
        document.body.dispatchEvent(new CustomEvent("sence:changed", { bubbles: true }));
      }, 2000);
    } else {
      form.removeAttribute("target");
      if (flag) { flag.value = "0"; }
    }
  });

  /* The confirmation the main-window path flashes, for the popup path (the server's status, posted back). */
  var CONFIRM = {
    opened: "Sesión SENCE iniciada: tu asistencia quedó registrada.",
    closed: "Sesión SENCE cerrada correctamente."
  };

  function hideNotice() {
    var notice = document.getElementById("sence-notice");
    if (notice) { notice.hidden = true; }
  }

  function showNotice(status) {
    var notice = document.getElementById("sence-notice");
    if (!notice) { return; }
    notice.textContent = CONFIRM[status] || "";
    notice.hidden = !CONFIRM[status];
  }

  /* Course page: the popup's answer page tells us; htmx fragments refresh on `sence:changed`. */
  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin) { return; }
    var data = event.data;
    if (!data || data.type !== "pizarra:sence") { return; }
    showNotice(data.status);
    document.body.dispatchEvent(new CustomEvent("sence:changed", { bubbles: true, detail: data }));
  });

  function onReady(fn) {
    if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", fn); } else { fn(); }
  }

  onReady(function () {
    /* The page holding the form to SENCE: submit it at once. */
    var trip = document.querySelector("form[data-sence-autosubmit]");
    if (trip) {
      var button = trip.querySelector("button");
      if (button) { button.disabled = true; }
      trip.submit();
      return;
    }
    /* The answer page: tell the opener (same origin only) and close; no opener -> back to the course. */
    var answer = document.getElementById("sence-answer");
    if (!answer) { return; }
    var opener = null;
    try { opener = window.opener && !window.opener.closed ? window.opener : null; } catch (e) { opener = null; }
    if (opener) {
      opener.postMessage({
        type: "pizarra:sence",
        status: answer.getAttribute("data-status"),
        course: Number(answer.getAttribute("data-course"))
      }, answer.getAttribute("data-target-origin"));
      window.setTimeout(function () { window.close(); }, 150);
    } else {
      window.location.replace(answer.getAttribute("data-course-url"));
    }
  });
})();
