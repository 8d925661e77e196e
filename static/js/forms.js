/* Forms: focus the first error, filter long device lists, copy a token. No inline script (CSP). */
(function () {
  "use strict";

  /* A refused form lists every error at its top (the error_summary macro): the first field in
     error takes the focus, the summary stays in view above it, and its links focus their field. */
  function focusFirstError() {
    var summary = document.querySelector("[data-error-summary]");
    var first = document.querySelector('form [aria-invalid="true"]');
    if (!summary && !first) return;
    if (first) first.focus({ preventScroll: true });
    else summary.focus({ preventScroll: true });
    (summary || first).scrollIntoView({ block: "start" });
  }

  function linkSummary(summary) {
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) return;
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) return;
      event.preventDefault();
      var input = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
      (input || target).focus();
      target.scrollIntoView({ block: "center" });
    });
  }

  /* A select marked data-filter gets a search box above it that hides the options not matching. */
  function addFilter(select) {
    var box = document.createElement("input");
    box.type = "search";
    box.className = "select-filter";
    box.placeholder = "Type to filter";
    box.setAttribute("aria-label", "Filter " + (select.getAttribute("data-filter") || "the list"));
    box.setAttribute("aria-controls", select.id);
    select.parentNode.insertBefore(box, select);
    box.addEventListener("input", function () {
      var words = box.value.trim().toLowerCase();
      Array.prototype.forEach.call(select.options, function (option) {
        option.hidden = words !== "" && option.text.toLowerCase().indexOf(words) === -1 && !option.selected;
      });
    });
  }

  /* A button data-copy="element-id" copies that element's text (the token shown once). */
  function addCopy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    button.hidden = false;
    var label = button.textContent;
    button.addEventListener("click", function () {
      var text = source.textContent.trim();
      var done = function () {
        button.textContent = "Copied";
        window.setTimeout(function () { button.textContent = label; }, 2000);
      };
      /* The text is selected, so a person can also copy it by hand, and copied in the click. */
      selectText(source);
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
      if (copied) done();
      else if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done);
    });
  }

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-error-summary]").forEach(linkSummary);
    document.querySelectorAll("select[data-filter]").forEach(addFilter);
    document.querySelectorAll("button[data-copy]").forEach(addCopy);
    focusFirstError();
  });
})();
