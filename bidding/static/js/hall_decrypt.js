/* Decrypting one's own bid in the opening hall, in this browser (form[data-decrypt-bid] on the
 * bidder's seat), as `ggzy bid decrypt` does on the bidder's computer:
 *
 * 1. the encryption certificate's PKCS#12 is opened in the page (/static/js/pki/pkcs12.js: a
 *    non-extractable WebCrypto key);
 * 2. the page fetches its bids' envelope headers (data-envelopes-url, the API's `envelopes`);
 * 3. for each lot, price summary first, then package, the content key is unwrapped here
 *    (/static/js/pki/envelope.js: ECDH through the key holder, the CMS X9.63 KDF and AES key
 *    unwrap, or RSA-OAEP), after checking the envelope is bound to this tender, lot and bidder;
 * 4. only that 32-byte content key is sent (data-decrypt-url), and the platform opens the part.
 *
 * The private key, the PKCS#12 file and its password never leave the page. Refusals are shown in
 * the reader's language: the platform's own sentence (`text`) or the template's data-text-*.
 * The hall's live view (opening.js) then shows the decryption and, from 唱标, the price table.
 */
(function () {
  "use strict";

  var PARTS = ["price-summary", "package"];

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)ggzy_csrf=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || "";
    } catch (e) {
      return "";
    }
  }

  function Refusal(field, message) {
    this.field = field;
    this.message = message;
  }

  function setup(form) {
    var status = form.querySelector("[data-decrypt-status]");
    var button = form.querySelector("button[type=submit]");
    var text = function (name) { return form.getAttribute("data-text-" + name) || name; };

    function clearErrors() {
      ["p12", "password"].forEach(function (name) {
        var p = document.getElementById("decrypt-error-" + name);
        p.textContent = "";
        p.hidden = true;
        document.getElementById("decrypt-" + name).removeAttribute("aria-invalid");
      });
    }

    function showError(field, message) {
      var p = field && document.getElementById("decrypt-error-" + field);
      if (p) {
        p.textContent = message;
        p.hidden = false;
        var input = document.getElementById("decrypt-" + field);
        input.setAttribute("aria-invalid", "true");
        input.focus();
      } else {
        status.textContent = message;
      }
    }

    function json(response) {
      return response.json().catch(function () { return {}; });
    }

    function send(lot, part, contentKey) {
      return fetch(form.getAttribute("data-decrypt-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "x-csrftoken": csrfToken() },
        body: JSON.stringify({ lot: lot, part: part, contentKey: contentKey }),
      }).then(function (r) {
        return json(r).then(function (body) {
          if (!r.ok) throw new Refusal(null, text("refused") + " " + (body.text || body.message || r.status));
          return body;
        });
      });
    }

    function decryptEnvelope(envelope, holder, modules) {
      var expected = { tender: form.getAttribute("data-tender"), lot: envelope.lot, bidder: form.getAttribute("data-bidder") };
      var chain = Promise.resolve();
      PARTS.forEach(function (part) {
        var entry = envelope.parts[part];
        if (!entry || entry.status === "opened") return;
        chain = chain.then(function () {
          return modules.envelope.unwrapContentKey(entry.header, holder, expected).then(function (cek) {
            var encoded = modules.envelope.base64(cek);
            cek.fill(0);
            return send(envelope.lot, part, encoded);
          });
        });
      });
      return chain;
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors();
      status.textContent = "";
      if (!window.crypto || !window.crypto.subtle) { status.textContent = text("insecure"); return; }
      var file = document.getElementById("decrypt-p12").files[0];
      if (!file) { showError("p12", text("choose-p12")); return; }
      var password = document.getElementById("decrypt-password").value;
      var modules;
      var holder;
      button.disabled = true;
      status.textContent = text("opening-p12");
      Promise.all([import(form.getAttribute("data-envelope-module")), import(form.getAttribute("data-pkcs12-module"))])
        .then(function (loaded) {
          modules = { envelope: loaded[0], pkcs12: loaded[1] };
          return file.arrayBuffer();
        })
        .then(function (buffer) {
          return modules.pkcs12.openPkcs12(new Uint8Array(buffer), password).catch(function (error) {
            var code = error && error.code;
            if (code === "bad-password") throw new Refusal("password", text("bad-password"));
            if (code === "legacy-encryption") throw new Refusal("p12", text("legacy-p12"));
            throw new Refusal("p12", text("bad-p12"));
          });
        })
        .then(function (opened) {
          holder = opened;
          status.textContent = text("decrypting");
          return fetch(form.getAttribute("data-envelopes-url"), { credentials: "same-origin", cache: "no-store" });
        })
        .then(function (r) {
          return json(r).then(function (body) {
            if (!r.ok) throw new Refusal(null, text("refused") + " " + (body.text || body.message || r.status));
            return body;
          });
        })
        .then(function (envelopes) {
          if (!envelopes.length) throw new Refusal(null, text("no-bid"));
          var chain = Promise.resolve();
          envelopes.forEach(function (envelope) {
            chain = chain.then(function () { return decryptEnvelope(envelope, holder, modules); });
          });
          return chain;
        })
        .then(function () {
          status.textContent = text("done");
          form.setAttribute("data-decrypted", "true");
        })
        .catch(function (error) {
          if (error instanceof Refusal) showError(error.field, error.message);
          else if (error && error.code === "wrong-key") showError("p12", text("wrong-key"));
          else if (error && error.code === "binding-mismatch") showError(null, text("binding-mismatch"));
          else if (error && error.code === "unsupported-envelope") showError(null, text("unsupported"));
          else showError(null, text("failed") + " " + (error && error.message ? error.message : String(error)));
        })
        .then(function () { button.disabled = false; });
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-decrypt-bid]"), setup);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
