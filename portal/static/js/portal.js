// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  function showMessage(text, kind) {
    var box = document.getElementById("flashes");
    if (!box) return;
    var p = document.createElement("p");
    p.className = "flash flash-" + kind;
    p.setAttribute("role", "alert");
    p.textContent = text;
    box.replaceChildren(p);
  }

  // An htmx action the server refused (403, 409, 429, 500…): say so instead of doing nothing.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var heading = doc.querySelector("h1");
    var detail = doc.querySelector(".error-page p");
    var text = heading ? heading.textContent.trim() : (xhr.status + " " + xhr.statusText);
    if (detail) text += ". " + detail.textContent.trim();
    showMessage(text, "error");
  });

  document.addEventListener("htmx:sendError", function () {
    var lang = document.documentElement.lang;
    showMessage(lang === "ru" ? "Нет связи с сервером. Попробуйте ещё раз." :
      "The server could not be reached. Please try again.", "error");
  });

  // After a swap that brought errors, move focus to their summary for screen readers.
  document.addEventListener("htmx:afterSwap", function (event) {
    var summary = event.detail.target.querySelector && event.detail.target.querySelector(".error-summary");
    if (!summary && event.detail.elt && event.detail.elt.querySelector) {
      summary = event.detail.elt.querySelector(".error-summary");
    }
    if (summary) summary.focus();
    // A confirmation brought in by htmx (<dialog data-modal>): open it, modal.
    var dialog = event.detail.target.querySelector && event.detail.target.querySelector("dialog[data-modal]:not([open])");
    if (dialog && dialog.showModal) dialog.showModal();
  });

  // A dialog's "keep it" button closes it and leaves the page as it was.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-close-dialog]");
    if (!button) return;
    var dialog = button.closest("dialog");
    if (dialog) { event.preventDefault(); dialog.close(); dialog.remove(); }
  });

  // A page that came back with errors (a plain post): the summary takes the keyboard focus.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".error-summary");
    if (summary) summary.focus();
  });
})();
