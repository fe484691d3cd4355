/* The evaluation session's pages follow its progress live (server-sent events over the platform's
 * live broker): `[data-session-live]` names the stream. Each message carries the progress
 * (`view`: state, remaining seconds, paused, signed-in count, chair); the time left counts down
 * in the page between messages. A change of state or pause reloads the page, so its forms match;
 * so does a `time-exceeded` event (the sweep recorded the overrun: the page shows the notice).
 * Past the end, the time left shows the overrun as `+m:ss` (`data-overrun`, seconds). */
(function () {
  "use strict";
  const box = document.querySelector("[data-session-live]");
  if (!box || !window.EventSource) {
    return;
  }
  const stateAt = box.dataset.state;
  const left = document.getElementById("time-left");
  const paused = document.getElementById("session-paused");
  const signed = document.getElementById("signed-in-count");
  let deadline = null;

  function show() {
    if (!left || deadline === null) {
      return;
    }
    const delta = Math.round((deadline - Date.now()) / 1000);
    const seconds = Math.abs(delta);
    left.dataset.remaining = String(Math.max(0, delta));
    left.dataset.overrun = String(Math.max(0, -delta));
    const sign = delta < 0 ? "+" : "";
    left.textContent = `${sign}${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  }

  const source = new EventSource(box.dataset.sessionLive);
  source.addEventListener("state", (message) => {
    const data = JSON.parse(message.data);
    const view = data.view;
    const wasPaused = paused ? paused.dataset.paused === "yes" : false;
    const changed = view.state !== stateAt || view.paused !== wasPaused;
    if (data.event && (changed || data.event.type === "time-exceeded")) {
      window.location.reload();
      return;
    }
    if (signed) {
      signed.textContent = `${view.signedIn} / ${view.members}`;
    }
    const overrun = view.overrunSeconds || 0;
    deadline =
      view.remainingSeconds === null || view.paused ? null : Date.now() + (view.remainingSeconds - overrun) * 1000;
    show();
  });
  window.setInterval(show, 1000);
})();
