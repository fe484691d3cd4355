/* The opening hall, live ([data-opening-hall]).
 *
 * The page is rendered with the hall's state; this script follows it through the server-sent
 * events at data-events-url (EventSource: it reconnects by itself, after the server's `retry:`
 * hint). Every `state` message carries the whole view the reader may see ({"event", "age",
 * "view"}), so a reconnecting page simply catches up from the first message.
 *
 * The countdown is the server's: the offset between the view's serverTime (plus `age`, how old
 * the server's copy of the view was) and this computer's clock is kept, and the time left is
 * stageEndsAt minus the server's now. A paused stage shows the remaining seconds it keeps.
 *
 * Everything is written with textContent (no HTML from data). The private key is never asked
 * for here: bidders decrypt with the bidder tool on their own computer.
 */
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    return pad(Math.floor(s / 3600)) + ":" + pad(Math.floor(s % 3600 / 60)) + ":" + pad(s % 60);
  }

  // "1234567.8" → "1,234,567.80", as the server's |amount filter writes it; anything else as given.
  function amount(value) {
    var text = String(value);
    var match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
    if (!match) return text;
    var fraction = ((match[3] || "") + "00").slice(0, 2);
    return match[1] + match[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + fraction;
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined || text === "" ? "—" : String(text);
    row.appendChild(td);
    return td;
  }

  function Hall(root) {
    this.root = root;
    this.labels = JSON.parse(root.querySelector("[data-opening-labels]").textContent);
    var countdown = document.getElementById("hall-countdown");
    this.endsAt = countdown.getAttribute("data-ends-at") ? Date.parse(countdown.getAttribute("data-ends-at")) : null;
    this.remaining = countdown.getAttribute("data-remaining");
    this.paused = countdown.getAttribute("data-paused-flag") === "true";
    this.offset = Date.parse(countdown.getAttribute("data-server-time")) - Date.now();
    this.events = 0;
  }

  // A bid's cause in the page's language: the platform's own sentences through the labels; a
  // sentence the platform wrote in English is left out of a Chinese page (the outcome says it).
  Hall.prototype.cause = function (text) {
    if (!text) return "";
    var known = (this.labels.causes || {})[text];
    if (known) return known;
    if (document.documentElement.lang !== "en" && /[A-Za-z]{2,}\s+[A-Za-z]{2,}/.test(text)) return "";
    return text;
  };

  Hall.prototype.label = function (group, key) {
    var table = this.labels[group] || {};
    return table[key] || key;
  };

  Hall.prototype.tick = function () {
    var out = document.getElementById("hall-countdown");
    if (this.paused && this.remaining !== null && this.remaining !== "") {
      out.textContent = clock(Number(this.remaining));
    } else if (this.endsAt !== null) {
      out.textContent = clock((this.endsAt - (Date.now() + this.offset)) / 1000);
    } else {
      out.textContent = this.labels.waitingHost;
    }
  };

  Hall.prototype.apply = function (message) {
    var view = message.view;
    this.events += 1;
    this.root.setAttribute("data-events", String(this.events));
    if (message.event && message.event.type) {
      this.root.setAttribute("data-last-event", message.event.type);
    }
    // The server's clock, corrected by how long its copy of the view had been cached.
    this.offset = Date.parse(view.serverTime) + (message.age || 0) * 1000 - Date.now();
    this.endsAt = view.stageEndsAt ? Date.parse(view.stageEndsAt) : null;
    this.remaining = view.remainingSeconds;
    this.paused = !!view.paused;

    var stage = document.getElementById("hall-stage");
    stage.textContent = this.label("stages", view.stage);
    stage.setAttribute("data-stage", view.stage);
    document.getElementById("hall-paused").hidden = !view.paused;
    document.getElementById("hall-bids-total").textContent = view.bids.total;
    document.getElementById("hall-bids-signed-in").textContent = view.bids.signedIn;
    document.getElementById("hall-bids-opened").textContent = view.bids.opened;
    var failed = document.getElementById("hall-failed");
    failed.hidden = !view.failedReason;
    failed.textContent = view.failedReason || "";
    this.renderBids(view.decryption || null);
    this.priceWords = view.priceWords || [];
    this.renderPrices(view.priceTable || null, view.priceTableSha256 || null);
    if (view.objections) this.renderObjections(view.objections);
    this.renderCoefficients(view.coefficients || []);
    this.renderOwn(view.decryption || []);
    this.tick();
  };

  Hall.prototype.renderBids = function (rows) {
    if (rows === null) return; // the visitor's masked view keeps its explanation
    var body = document.querySelector("#hall-bids tbody");
    var self = this;
    body.textContent = "";
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-bidder", r.bidder);
      tr.setAttribute("data-lot", r.lot);
      cell(tr, r.lot);
      cell(tr, r.bidderName);
      cell(tr, r.signedIn ? self.labels.yes : self.labels.no);
      cell(tr, self.label("parts", r.priceSummary));
      cell(tr, self.label("parts", r.package));
      var outcome = cell(tr, self.label("outcomes", r.outcome));
      outcome.setAttribute("data-outcome", r.outcome);
      var cause = self.cause(r.cause);
      if (cause) {
        outcome.appendChild(document.createElement("br"));
        var small = document.createElement("small");
        small.textContent = cause;
        outcome.appendChild(small);
      }
      body.appendChild(tr);
    });
    if (!rows.length) {
      var empty = document.createElement("tr");
      var td = cell(empty, this.labels.none);
      td.colSpan = 6;
      body.appendChild(empty);
    }
  };

  Hall.prototype.renderPrices = function (lines, digest) {
    var table = document.getElementById("hall-prices");
    var body = table.querySelector("tbody");
    var self = this;
    table.hidden = !lines;
    document.getElementById("hall-prices-pending").hidden = !!lines;
    var digestLine = document.getElementById("hall-prices-digest");
    digestLine.hidden = !digest;
    digestLine.querySelector("code").textContent = digest || "";
    body.textContent = "";
    (lines || []).forEach(function (line, index) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-bidder", line.bidder);
      cell(tr, line.lot);
      cell(tr, line.bidderName);
      var shown = line.totalPrice ? amount(line.totalPrice) : "—";
      if (line.totalPrice && line.currency) shown += " " + self.label("currencies", line.currency);
      var price = cell(tr, shown);
      price.setAttribute("data-price", "");
      price.className = "amount";
      var words = cell(tr, (self.priceWords || [])[index] || "");
      words.setAttribute("data-price-words", "");
      words.className = "amount-words";
      cell(tr, line.durationDays);
      cell(tr, self.label("outcomes", line.outcome));
      body.appendChild(tr);
    });
  };

  Hall.prototype.renderCoefficients = function (rows) {
    var section = document.getElementById("hall-coefficients-section");
    if (!section) return;
    section.hidden = rows.length === 0;
    var body = document.getElementById("hall-coefficients").querySelector("tbody");
    var notDrawn = this.labels.notDrawn || "—";
    body.textContent = "";
    rows.forEach(function (c) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-coefficient", c.name);
      cell(tr, c.name);
      cell(tr, c.low + " – " + c.high + " (" + c.step + ")");
      var commitment = document.createElement("code");
      commitment.className = "break";
      commitment.textContent = c.seedCommitment;
      var commitmentCell = cell(tr, "");
      commitmentCell.textContent = "";
      commitmentCell.appendChild(commitment);
      var seed = document.createElement("code");
      seed.className = "break";
      seed.setAttribute("data-seed", "");
      seed.textContent = c.seed || "—";
      var seedCell = cell(tr, "");
      seedCell.textContent = "";
      seedCell.appendChild(seed);
      var value = cell(tr, "");
      value.textContent = "";
      value.setAttribute("data-value", "");
      var strong = document.createElement("strong");
      strong.textContent = c.value || notDrawn;
      value.appendChild(strong);
      body.appendChild(tr);
    });
  };

  Hall.prototype.renderObjections = function (objections) {
    var list = document.getElementById("hall-objections");
    if (!list) return;
    var forms = list.getAttribute("data-answer-forms") === "true";
    var self = this;
    list.textContent = "";
    objections.forEach(function (o) {
      var li = document.createElement("li");
      li.setAttribute("data-objection", o.id);
      var p = document.createElement("p");
      var who = document.createElement("strong");
      who.textContent = o.bidder || "";
      p.appendChild(who);
      p.appendChild(document.createTextNode(": " + o.text));
      li.appendChild(p);
      var answer = document.createElement("p");
      answer.textContent = list.getAttribute("data-answer-label") + ": ";
      var span = document.createElement("span");
      span.setAttribute("data-answer", "");
      span.textContent = o.answer || self.labels.noAnswer;
      answer.appendChild(span);
      li.appendChild(answer);
      if (forms && !o.answer) li.appendChild(self.answerForm(list, o.id));
      list.appendChild(li);
    });
    if (!objections.length) {
      var empty = document.createElement("li");
      empty.setAttribute("data-empty", "");
      empty.textContent = this.labels.none;
      list.appendChild(empty);
    }
  };

  Hall.prototype.answerForm = function (list, id) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = list.getAttribute("data-answer-action") + id + "/answer";
    form.className = "form inline-form";
    var token = document.createElement("input");
    token.type = "hidden";
    token.name = "_csrf_token";
    token.value = list.getAttribute("data-csrf");
    form.appendChild(token);
    var label = document.createElement("label");
    label.htmlFor = "answer-" + id;
    label.textContent = list.getAttribute("data-answer-label");
    form.appendChild(label);
    var text = document.createElement("textarea");
    text.id = "answer-" + id;
    text.name = "answer";
    text.rows = 2;
    text.required = true;
    form.appendChild(text);
    var button = document.createElement("button");
    button.type = "submit";
    button.textContent = list.getAttribute("data-answer-button");
    form.appendChild(button);
    return form;
  };

  Hall.prototype.renderOwn = function (rows) {
    var self = this;
    document.querySelectorAll("[data-own-bid]").forEach(function (li) {
      var lot = li.getAttribute("data-own-bid");
      var row = null;
      rows.forEach(function (r) {
        // The bidder's page lists its own lots; its rows are the ones whose lot it shows and,
        // from the price reading on (when every row is public), the bidder the page names.
        if (r.lot === lot && (!row || r.bidder === li.getAttribute("data-own-uscc"))) row = r;
      });
      if (!row) return;
      li.querySelector("[data-own-price]").textContent = self.label("parts", row.priceSummary);
      li.querySelector("[data-own-package]").textContent = self.label("parts", row.package);
      li.querySelector("[data-own-outcome]").textContent = self.label("outcomes", row.outcome);
    });
  };

  Hall.prototype.connect = function () {
    var self = this;
    var status = document.getElementById("hall-connection");
    var source = new EventSource(this.root.getAttribute("data-events-url"));
    source.addEventListener("state", function (e) {
      status.textContent = self.labels.connected;
      self.root.setAttribute("data-live", "true");
      try {
        self.apply(JSON.parse(e.data));
      } catch (err) {
        window.console && window.console.error(err);
      }
    });
    source.addEventListener("error", function () {
      // EventSource reconnects by itself; the first message then brings the current state.
      status.textContent = self.labels.reconnecting;
      self.root.setAttribute("data-live", "false");
    });
  };

  function start() {
    var root = document.querySelector("[data-opening-hall]");
    if (!root || !window.EventSource) return;
    var hall = new Hall(root);
    hall.tick();
    window.setInterval(function () { hall.tick(); }, 1000);
    hall.connect();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
