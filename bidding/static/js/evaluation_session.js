/* The evaluation session's pages follow its progress live (server-sent events over the platform's
 * live broker): `[data-session-live]` names the stream. Each message carries the progress
 * (`view`: state, remaining seconds, paused, signed-in count, chair); the time left counts down
 * in the page between messages. A change of state or pause reloads the page, so its forms match. */
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
    const seconds = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    left.dataset.remaining = String(seconds);
    left.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  }

  const source = new EventSource(box.dataset.sessionLive);
  source.addEventListener("state", (message) => {
    const data = JSON.parse(message.data);
    const view = data.view;
    const wasPaused = paused ? paused.dataset.paused === "yes" : false;
    if (view.state !== stateAt || view.paused !== wasPaused) {
      if (data.event) {
        window.location.reload();
        return;
      }
    }
    if (signed) {
      signed.textContent = `${view.signedIn} / ${view.members}`;
    }
    deadline = view.remainingSeconds === null || view.paused ? null : Date.now() + view.remainingSeconds * 1000;
    show();
  });
  window.setInterval(show, 1000);
})();
