/* The bidder's large hall clock (#hall-clock, bidding/_hall_clock.html): a copy of the hall's stage
 * (#hall-stage) and countdown (#hall-countdown), which opening.js keeps current from the server's
 * clock and events. Only textContent is copied.
 */
(function () {
  "use strict";

  function mirror(sourceId, targetId) {
    var source = document.getElementById(sourceId);
    var target = document.getElementById(targetId);
    if (!source || !target) return;
    function copy() { target.textContent = source.textContent; }
    copy();
    new MutationObserver(copy).observe(source, { childList: true, characterData: true, subtree: true });
  }

  function start() {
    mirror("hall-stage", "hall-clock-stage");
    mirror("hall-countdown", "hall-clock-time");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
