// The hit alerts page (templates/alpr/hits.html): when "Work" loads a hit into the panel, the
// panel comes into view and its heading takes the focus, so the officer (and a screen reader)
// lands on the hit chosen, on a desktop (the panel is sticky beside the list) and on a phone
// (the panel is below the list).
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    var panel = event.detail.target;
    if (!panel || panel.id !== "hit-panel") {
      return;
    }
    var heading = panel.querySelector("[data-panel-heading]");
    if (!heading) {
      return;
    }
    var opened = event.detail.requestConfig && event.detail.requestConfig.verb === "get";
    var box = panel.getBoundingClientRect();
    if (box.top < 0 || box.top > window.innerHeight / 2) {
      panel.scrollIntoView({ block: "start" });
    }
    if (opened) {
      heading.focus({ preventScroll: true });
    }
  });
})();
