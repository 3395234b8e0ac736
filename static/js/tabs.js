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
