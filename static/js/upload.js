// Material upload: a progress bar while htmx sends the file, and the server's refusal (422, 413) swapped in
// beside the form instead of being dropped as an error. Without JavaScript the form posts as usual.
(function () {
  "use strict";

  function form(event) {
    var target = event.detail && event.detail.elt;
    return target && target.id === "upload-form" ? target : null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var el = form(event);
    if (!el) { return; }
    el.querySelector(".upload-progress").hidden = false;
    el.querySelector(".upload-network-error").hidden = true;
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var el = form(event);
    if (!el || !event.detail.lengthComputable) { return; }
    var percent = Math.round(100 * event.detail.loaded / event.detail.total);
    el.querySelector("progress").value = percent;
    el.querySelector("[data-upload-percent]").textContent = percent + " %";
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (form(event) && (status === 422 || status === 413)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:sendError", function (event) {
    var el = form(event);
    if (!el) { return; }
    el.querySelector(".upload-progress").hidden = true;
    el.querySelector(".upload-network-error").hidden = false;
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var el = document.getElementById("upload-form");
    var error = el && el.querySelector("#material-error");
    if (error) { el.querySelector("#material-file").focus(); }
  });
})();
