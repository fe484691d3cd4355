/* ggzy web shell behaviour. Loaded after htmx (both deferred), no inline scripts anywhere.
 *
 * 1. The server answers a failed HTMX request with a toast fragment and HX-Retarget/HX-Reswap
 *    pointing at #toasts. htmx does not swap 4xx/5xx responses by default (and should not swap
 *    a proxy's error page into a form), so swap only responses that carry HX-Retarget: those
 *    come from the platform's own error handler.
 * 2. Toasts close on their button; notices (not errors) also close by themselves.
 * 3. An element with data-refresh-after="#frame-id" is fetched again from the current page each
 *    time that frame has loaded: the frame's own request is what the element reports on (an
 *    expert's readings list is recorded by the document request the frame makes).
 */
(function () {
  "use strict";

  var NOTICE_LIFETIME_MS = 8000;

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.status >= 400 && xhr.getResponseHeader("HX-Retarget")) {
      event.detail.shouldSwap = true;
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss]");
    if (button) {
      var toast = button.closest("[data-toast]");
      if (toast) toast.remove();
    }
  });

  function scheduleRemoval(root) {
    var toasts = root.querySelectorAll("[data-toast]:not(.toast-error):not([data-expiring])");
    Array.prototype.forEach.call(toasts, function (toast) {
      toast.setAttribute("data-expiring", "");
      window.setTimeout(function () { toast.remove(); }, NOTICE_LIFETIME_MS);
    });
  }

  document.addEventListener("htmx:afterSwap", function () {
    var region = document.getElementById("toasts");
    if (region) scheduleRemoval(region);
  });

  // A form re-rendered with errors: move focus to the summary so screen readers announce it.
  document.addEventListener("htmx:afterSettle", function (event) {
    var summary = event.detail.target && event.detail.target.querySelector
      ? event.detail.target.querySelector(".form-errors")
      : null;
    if (summary) summary.focus();
  });

  function refreshAfterFrames() {
    var watchers = document.querySelectorAll("[data-refresh-after]");
    Array.prototype.forEach.call(watchers, function (element) {
      var frame = document.querySelector(element.getAttribute("data-refresh-after"));
      if (!frame || !element.id) return;
      var selector = "#" + element.id;
      var refresh = function () {
        htmx.ajax("GET", window.location.href, { target: selector, select: selector, swap: "outerHTML" });
      };
      frame.addEventListener("load", refresh);
      // The frame may have finished before this deferred script ran: its load event is gone then.
      try {
        if (frame.contentWindow.location.href !== "about:blank"
            && frame.contentDocument.readyState === "complete") refresh();
      } catch (ignored) {
        // another origin's frame: only its load event tells
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", refreshAfterFrames);
  } else {
    refreshAfterFrames();
  }
})();
