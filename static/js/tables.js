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
