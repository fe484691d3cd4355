/* Bidding pages: the deadline countdown and the browser upload of a sealed bid container.
 *
 * 1. Countdown ([data-countdown]). The deadline is decided by the server's database clock, never
 *    by this computer's: the page carries the server time it was rendered at, the script keeps the
 *    offset between that and the local clock, and re-reads the server time from data-time-url
 *    every minute (domain rules §1.3.6), so a wrong or changed local clock cannot mislead a bidder.
 *
 * 2. Upload (form[data-bid-upload]). The same resumable protocol as the bidder CLI, through the
 *    page's cookie session: SHA-256 of the file (crypto.subtle.digest reads the whole file into
 *    memory, acceptable for packages up to a few hundred MB; larger ones go through `ggzy bid
 *    upload`), POST the size and digest, PATCH chunks with Upload-Offset, after an error ask the
 *    server's offset and resume from there, then POST the submission and show the receipt or the
 *    refusal (field, rule and the translated reason). Every unsafe request sends the CSRF token
 *    in x-csrftoken. crypto.subtle exists only in secure contexts (HTTPS or localhost).
 */
(function () {
  "use strict";

  var POLL_MS = 60000;
  var MAX_RETRIES = 5;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function startCountdown(el) {
    var deadline = Date.parse(el.getAttribute("data-deadline"));
    var offset = Date.parse(el.getAttribute("data-server-time")) - Date.now();
    var out = el.querySelector("[data-countdown-value]") || el;
    var url = el.getAttribute("data-time-url");

    function render() {
      var left = deadline - (Date.now() + offset);
      if (left <= 0) {
        out.textContent = el.getAttribute("data-closed-text");
        el.setAttribute("data-closed", "");
        return;
      }
      var s = Math.floor(left / 1000);
      var days = Math.floor(s / 86400);
      out.textContent = days + " " + el.getAttribute("data-days-text") + " " +
        pad(Math.floor(s % 86400 / 3600)) + ":" + pad(Math.floor(s % 3600 / 60)) + ":" + pad(s % 60);
    }

    function poll() {
      if (!url) return;
      var sent = Date.now();
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body || !body.now) return;
          // Half the round trip is the best estimate of when the server read its clock.
          offset = Date.parse(body.now) - (sent + (Date.now() - sent) / 2);
          render();
        })
        .catch(function () { /* keep the last offset; the next poll tries again */ });
    }

    render();
    window.setInterval(render, 1000);
    window.setInterval(poll, POLL_MS);
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)ggzy_csrf=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || "";
    } catch (e) {
      return "";
    }
  }

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
  }

  function Refusal(body, status) {
    this.body = body || {};
    this.status = status;
  }

  function request(method, url, body, headers) {
    var all = { "x-csrftoken": csrfToken() };
    Object.keys(headers || {}).forEach(function (k) { all[k] = headers[k]; });
    return fetch(url, { method: method, body: body, headers: all, credentials: "same-origin" });
  }

  function json(response) {
    return response.json().catch(function () { return {}; });
  }

  function setupUpload(form) {
    var input = form.querySelector("input[type=file]");
    var status = form.querySelector("[data-upload-status]");
    var progress = form.querySelector("progress");
    var result = document.getElementById("upload-result");
    var button = form.querySelector("button[type=submit]");
    var chunk = parseInt(form.getAttribute("data-chunk-bytes"), 10);
    var text = function (name) { return form.getAttribute("data-text-" + name) || ""; };

    function say(message) { status.textContent = message; }

    function offsetNow(id) {
      return request("GET", "/bidding/uploads/" + id).then(function (r) {
        return json(r).then(function (body) {
          if (!r.ok) throw new Refusal(body, r.status);
          if (body.status !== "receiving") throw new Refusal(body.refusal || body, r.status);
          return body.offset;
        });
      });
    }

    function send(file, id, offset, retries) {
      progress.value = offset;
      if (offset >= file.size) return Promise.resolve();
      var end = Math.min(offset + chunk, file.size);
      return request("PATCH", "/bidding/uploads/" + id, file.slice(offset, end), {
        "Upload-Offset": String(offset),
        "Content-Type": "application/offset+octet-stream"
      }).then(function (r) {
        if (r.status === 204) return send(file, id, parseInt(r.headers.get("Upload-Offset"), 10), MAX_RETRIES);
        return json(r).then(function (body) {
          if (r.status === 409 && typeof body.offset === "number") return send(file, id, body.offset, retries);
          if (r.status >= 500 && retries > 0) throw new Error("server " + r.status);
          throw new Refusal(body, r.status);
        });
      }).catch(function (error) {
        if (error instanceof Refusal || retries <= 0) throw error;
        // A dropped connection or a server error: ask where the server stands and resume there.
        say(text("resuming"));
        return new Promise(function (resolve) { window.setTimeout(resolve, 1000 * (MAX_RETRIES - retries + 1)); })
          .then(function () { return offsetNow(id); })
          .then(function (at) { return send(file, id, at, retries - 1); });
      });
    }

    function showReceipt(receipt) {
      var tpl = document.getElementById("receipt-template");
      var node = tpl.content.cloneNode(true);
      node.querySelector("[data-receipt-no]").textContent = receipt.receiptNo;
      node.querySelector("[data-received-at]").textContent = receipt.receivedAtLocal;
      node.querySelector("[data-container-sha256]").textContent = receipt.containerSha256;
      node.querySelector("[data-manifest-sha256]").textContent = receipt.manifestSha256;
      node.querySelector("[data-receipt-json]").setAttribute("href", receipt.json);
      node.querySelector("[data-receipt-p7s]").setAttribute("href", receipt.signature);
      if (receipt.pdf) node.querySelector("[data-receipt-pdf]").setAttribute("href", receipt.pdf);
      result.replaceChildren(node);
    }

    function showRefusal(refusal) {
      var tpl = document.getElementById("refusal-template");
      var node = tpl.content.cloneNode(true);
      // The field's label and the details in the reader's language; codes stay attributes.
      var box = node.querySelector("#refusal");
      box.setAttribute("data-field", refusal.field || "");
      box.setAttribute("data-rule", refusal.rule || "");
      node.querySelector("[data-refusal-text]").textContent = refusal.text || "";
      var field = node.querySelector("[data-refusal-field]");
      if (refusal.fieldLabel) { field.textContent = refusal.fieldLabel; } else { field.closest("div").remove(); }
      var details = node.querySelector("[data-refusal-message]");
      if (refusal.details) { details.textContent = refusal.details; } else { details.closest("div").remove(); }
      result.replaceChildren(node);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var file = input.files && input.files[0];
      if (!file) { say(text("choose")); return; }
      if (!window.crypto || !window.crypto.subtle) { say(text("insecure")); return; }
      button.disabled = true;
      result.replaceChildren();
      progress.max = file.size;
      progress.value = 0;
      var id;
      say(text("hashing"));
      file.arrayBuffer()
        .then(function (buffer) { return window.crypto.subtle.digest("SHA-256", buffer); })
        .then(function (digest) {
          say(text("uploading"));
          return request("POST", form.getAttribute("data-start-url"),
            JSON.stringify({ size: file.size, sha256: hex(digest) }), { "Content-Type": "application/json" });
        })
        .then(function (r) {
          return json(r).then(function (body) {
            if (r.status !== 201) throw new Refusal(body, r.status);
            id = body.id;
            return send(file, id, body.offset, MAX_RETRIES);
          });
        })
        .then(function () {
          progress.value = file.size;
          say(text("checking"));
          return request("POST", "/bidding/uploads/" + id + "/submission");
        })
        .then(function (r) {
          return json(r).then(function (body) {
            if (r.status !== 201) throw new Refusal(body, r.status);
            say(text("accepted"));
            showReceipt(body);
          });
        })
        .catch(function (error) {
          say(text("refused"));
          showRefusal(error instanceof Refusal ? error.body : { message: String(error) });
        })
        .then(function () { button.disabled = false; });
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-countdown]"), startCountdown);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-bid-upload]"), setupUpload);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
