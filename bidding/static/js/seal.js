/* Sealing a bid in this browser (form[data-seal-bid] on the upload page).
 *
 * The bidder chooses the package files, fills in the price summary (开标一览表: total price,
 * duration, priced items, bid security), its signing certificate (PKCS#12 and password) and its
 * organisation's encryption certificate. The page then builds the same signed `ggzy-bid/1`
 * container `ggzy bid seal` builds (/static/js/pki/envelope.js: CMS AuthEnvelopedData parts bound
 * to this tender, lot, organisation and deadline, split among the tender's key holders when it has
 * them, the manifest signed with detached CAdES by cades.js) and hands the container to the
 * upload form below (form[data-bid-upload], bidding.js), which sends it through the same
 * resumable intake as any container and shows the platform's receipt.
 *
 * The files, the prices, the PKCS#12 file and its password stay in this page's memory: the only
 * bytes that leave are the sealed container's. The PKCS#12 key is opened non-extractable.
 * Every message comes from the template's data-text-* attributes (translated there); a refusal
 * is shown next to its field.
 */
(function () {
  "use strict";

  function text(form, name) { return form.getAttribute("data-text-" + name) || name; }

  function readFile(file) {
    return file.arrayBuffer().then(function (buffer) { return new Uint8Array(buffer); });
  }

  function Refusal(field, message) {
    this.field = field;
    this.message = message;
  }

  function setup(form) {
    var status = form.querySelector("[data-seal-status]");
    var button = form.querySelector("button[type=submit]");
    var upload = document.querySelector("form[data-bid-upload]");
    var fields = ["files", "total-price", "duration-days", "items", "guarantee-reference", "sign-p12",
      "sign-password", "encryption-cert"];

    function clearErrors() {
      fields.forEach(function (name) {
        var p = document.getElementById("seal-error-" + name);
        if (p) { p.textContent = ""; p.hidden = true; }
        var input = document.getElementById("seal-" + name);
        if (input) input.removeAttribute("aria-invalid");
      });
    }

    function showError(field, message) {
      var p = document.getElementById("seal-error-" + field);
      var input = document.getElementById("seal-" + field);
      if (p) { p.textContent = message; p.hidden = false; }
      if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
      if (!p) status.textContent = message;
    }

    function value(name) { return (document.getElementById("seal-" + name).value || "").trim(); }

    function priceInputs() {
      var total = value("total-price").replace(/,/g, "");
      if (!/^\d+(\.\d+)?$/.test(total)) throw new Refusal("total-price", text(form, "bad-price"));
      var days = value("duration-days");
      if (!/^\d+$/.test(days) || parseInt(days, 10) > 100000) throw new Refusal("duration-days", text(form, "bad-duration"));
      var items = [];
      value("items").split(/\r?\n/).forEach(function (line) {
        line = line.trim();
        if (!line) return;
        var at = line.lastIndexOf("=");
        var name = at > 0 ? line.slice(0, at).trim() : "";
        var price = at > 0 ? line.slice(at + 1).trim().replace(/,/g, "") : "";
        if (!name || !/^\d+(\.\d+)?$/.test(price)) throw new Refusal("items", text(form, "bad-items"));
        items.push([name, price]);
      });
      var guarantee = { form: document.getElementById("seal-guarantee-form").value, reference: value("guarantee-reference") };
      if (guarantee.form === "guarantee" && !guarantee.reference) {
        throw new Refusal("guarantee-reference", text(form, "guarantee-reference"));
      }
      return { price: { totalPrice: total, durationDays: parseInt(days, 10), items: items }, guarantee: guarantee };
    }

    function chosenFiles() {
      var input = document.getElementById("seal-files");
      var files = Array.prototype.slice.call(input.files || []);
      if (!files.length) throw new Refusal("files", text(form, "no-files"));
      var names = {};
      var total = 0;
      files.forEach(function (f) {
        if (names[f.name] || f.name === "manifest.json") throw new Refusal("files", text(form, "duplicate-file"));
        names[f.name] = true;
        total += f.size;
      });
      var limit = parseInt(form.getAttribute("data-max-bytes"), 10);
      if (limit && total > limit) throw new Refusal("files", text(form, "too-large"));
      return files;
    }

    /** The key holders' certificates, fetched from the links the page lists (public). */
    function keyHolders() {
      var links = document.querySelectorAll("a[data-key-holder]");
      return Promise.all(Array.prototype.map.call(links, function (a) {
        return fetch(a.getAttribute("href"), { credentials: "same-origin" }).then(function (r) {
          if (!r.ok) throw new Refusal(null, text(form, "key-holders"));
          return r.text();
        });
      }));
    }

    function certificateError(error) {
      var code = error && error.code;
      if (code === "bad-password") return new Refusal("sign-password", text(form, "bad-password"));
      if (code === "legacy-encryption") return new Refusal("sign-p12", text(form, "legacy-p12"));
      if (code === "no-key" || code === "key-mismatch" || code === "malformed" || code === "unsupported-key") {
        return new Refusal("sign-p12", text(form, "bad-p12"));
      }
      return null;
    }

    function namesOrganisation(der, uscc) {
      // The USCC is in the certificate (subject or the organisation-code extension) as ASCII.
      var needle = new TextEncoder().encode(uscc);
      outer: for (var i = 0; i + needle.length <= der.length; i++) {
        for (var j = 0; j < needle.length; j++) if (der[i + j] !== needle[j]) continue outer;
        return true;
      }
      return false;
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors();
      status.textContent = "";
      if (!window.crypto || !window.crypto.subtle) { status.textContent = text(form, "insecure"); return; }
      var inputs;
      var files;
      try {
        inputs = priceInputs();
        files = chosenFiles();
      } catch (error) {
        if (error instanceof Refusal) { showError(error.field, error.message); return; }
        throw error;
      }
      var p12 = document.getElementById("seal-sign-p12").files[0];
      if (!p12) { showError("sign-p12", text(form, "choose-p12")); return; }
      var password = document.getElementById("seal-sign-password").value;
      var cert = document.getElementById("seal-encryption-cert").files[0];
      if (!cert) { showError("encryption-cert", text(form, "choose-encryption")); return; }
      button.disabled = true;
      var modules;
      var holder;
      status.textContent = text(form, "opening-p12");
      Promise.all([
        import(form.getAttribute("data-envelope-module")),
        import(form.getAttribute("data-pkcs12-module")),
        import(form.getAttribute("data-cades-module")),
      ])
        .then(function (loaded) {
          modules = { envelope: loaded[0], pkcs12: loaded[1], cades: loaded[2] };
          return readFile(p12);
        })
        .then(function (bytes) {
          return modules.pkcs12.openPkcs12(bytes, password).catch(function (error) {
            throw certificateError(error) || error;
          });
        })
        .then(function (opened) {
          holder = opened;
          if (!namesOrganisation(holder.certificate, form.getAttribute("data-bidder"))) {
            throw new Refusal("sign-p12", text(form, "wrong-organisation"));
          }
          return readFile(cert).then(function (bytes) {
            return modules.envelope.readCertificate(bytes).catch(function () {
              throw new Refusal("encryption-cert", text(form, "bad-encryption"));
            });
          });
        })
        .then(function (encryption) {
          try {
            // an EC or RSA key with key agreement / key encipherment, as the CLI requires
            if (encryption.kind === "other" || (encryption.kind === "ec" && !encryption.curve) ||
                (encryption.keyUsage && !encryption.keyUsage.keyAgreement && !encryption.keyUsage.keyEncipherment)) {
              throw new Refusal("encryption-cert", text(form, "bad-encryption"));
            }
          } catch (e) { return Promise.reject(e); }
          status.textContent = text(form, "sealing");
          return Promise.all([keyHolders(), Promise.all(files.map(function (f) {
            return readFile(f).then(function (data) { return { name: f.name, data: data }; });
          }))]).then(function (both) {
            return modules.envelope.buildContainer({
              tender: form.getAttribute("data-tender"),
              lot: form.getAttribute("data-lot"),
              bidder: form.getAttribute("data-bidder"),
              deadline: form.getAttribute("data-deadline"),
              files: both[1],
              price: inputs.price,
              guarantee: inputs.guarantee,
              signer: holder,
              encryption: encryption,
              keyHolders: both[0],
              threshold: parseInt(form.getAttribute("data-threshold") || "0", 10),
              sign: function (data, signer) { return modules.cades.signDetached(data, signer); },
            }).then(function (built) {
              both[1].forEach(function (f) { f.data.fill(0); });
              return built;
            });
          });
        })
        .then(function (built) {
          status.textContent = text(form, "sealed");
          form.setAttribute("data-sealed-sha256", built.sha256);
          // The sealed container goes through the upload form (bidding.js): the same intake.
          var container = new File([built.container], "bid-" + form.getAttribute("data-lot") + ".zip",
            { type: "application/zip" });
          var transfer = new DataTransfer();
          transfer.items.add(container);
          var input = upload.querySelector("input[type=file]");
          input.files = transfer.files;
          upload.requestSubmit();
        })
        .catch(function (error) {
          if (error instanceof Refusal) {
            showError(error.field, error.message);
          } else if (error && error.code === "certificate") {
            showError("encryption-cert", text(form, "bad-encryption"));
          } else if (error && (error.code === "certificate-usage" || error.code === "certificate-kind" || error.code === "certificate-curve")) {
            showError("encryption-cert", text(form, "bad-encryption"));
          } else {
            status.textContent = text(form, "failed") + " " + (error && error.message ? error.message : String(error));
          }
        })
        .then(function () { button.disabled = false; });
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-seal-bid]"), setup);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
