// index.html's only script: filters, matrix clicks, deep links (#case=ID), open/close. No network.
(function () {
  "use strict";
  var $ = function (s, r) { return (r || document).querySelector(s); };
  var $$ = function (s, r) { return Array.prototype.slice.call((r || document).querySelectorAll(s)); };
  var cases = $$("details.case");
  var parts = null, unpacked = {};

  // The case bodies arrive gzipped and base64-encoded in #case-bodies, in parts of a few cases each (see
  // reports/html.py): a part is decoded when one of its cases is first opened, and kept.
  function part(n) {
    if (!unpacked[n]) {
      if (parts === null) parts = JSON.parse($("#case-bodies").textContent);
      unpacked[n] = Promise.resolve(parts[n]).then(function (b64) {
        if (typeof DecompressionStream === "undefined") throw new Error("this browser has no DecompressionStream");
        var bin = atob(b64), bytes = new Uint8Array(bin.length);
        for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        return new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
      }).then(JSON.parse);
    }
    return unpacked[n];
  }

  // Puts a case's body in when it is first opened; the slot keeps data-lazy until then.
  function fill(d) {
    var slot = $(".case-body", d);
    if (!slot || !slot.dataset.lazy || slot.dataset.filling) return Promise.resolve();
    slot.dataset.filling = "1";
    return part(Number(d.dataset.part)).then(function (bodies) {
      slot.innerHTML = bodies[d.dataset.id] || "<p class=\"hint\">no details recorded</p>";
      if (client.value) $$("[data-client]", slot).forEach(function (el) { el.hidden = el.dataset.client !== client.value; });
    }, function (e) {
      slot.innerHTML = "";
      var p = document.createElement("p");
      p.className = "hint";
      p.textContent = "The details could not be unpacked (" + e.message + "): open the page in a current browser, or read report.json and events.jsonl.";
      slot.appendChild(p);
    }).then(function () {
      delete slot.dataset.lazy;
      delete slot.dataset.filling;
    });
  }
  cases.forEach(function (d) {
    d.addEventListener("toggle", function () { if (d.open) fill(d); });
  });
  var family = $("#f-family"), client = $("#f-client"), text = $("#f-text"), unexpected = $("#f-unexpected");

  function pairs(d) {
    return d.dataset.st.split(" ").filter(Boolean).map(function (p) {
      var i = p.indexOf("=");
      return [p.slice(0, i), p.slice(i + 1)];
    });
  }

  function apply() {
    var fam = family.value, cl = client.value, q = text.value.trim().toLowerCase(), unx = unexpected.checked;
    var wanted = {};
    $$(".f-status").forEach(function (x) { if (x.checked) wanted[x.value] = true; });
    var shown = 0;
    cases.forEach(function (d) {
      var ok = (!fam || d.dataset.family === fam) && (!q || d.dataset.text.indexOf(q) >= 0 || d.dataset.id.toLowerCase().indexOf(q) >= 0);
      if (ok) {
        var unxs = " " + d.dataset.unx + " ";
        ok = pairs(d).some(function (p) {
          return (!cl || p[0] === cl) && wanted[p[1]] && (!unx || unxs.indexOf(" " + p[0] + " ") >= 0);
        });
      }
      d.hidden = !ok;
      if (ok) shown++;
    });
    $$(".caselist [data-client]").forEach(function (el) { el.hidden = !!cl && el.dataset.client !== cl; });
    $(".caselist").style.setProperty("--nclients", cl ? 1 : $$(".case-head [data-client]").length);
    $("#shown").textContent = String(shown);
  }

  [family, client, unexpected].forEach(function (el) { el.addEventListener("change", apply); });
  $$(".f-status").forEach(function (el) { el.addEventListener("change", apply); });
  text.addEventListener("input", apply);

  $$("a.mcell").forEach(function (a) {
    a.addEventListener("click", function () {
      family.value = a.dataset.pickFamily;
      client.value = a.dataset.pickClient;
      apply();
    });
  });

  $("#open-failing").addEventListener("click", function () {
    cases.forEach(function (d) {
      if (!d.hidden && pairs(d).some(function (p) { return p[1] !== "PASS" && p[1] !== "N/A"; })) { fill(d); d.open = true; }
    });
  });
  $("#close-all").addEventListener("click", function () { cases.forEach(function (d) { d.open = false; }); });

  function openFromHash() {
    var h = location.hash;
    if (h.indexOf("#case=") !== 0) return;
    var id = decodeURIComponent(h.slice(6));
    var d = cases.filter(function (x) { return x.dataset.id === id; })[0];
    if (!d) return;
    d.hidden = false;
    d.open = true;
    d.scrollIntoView({block: "start"});
    fill(d).then(function () { d.scrollIntoView({block: "start"}); });
  }
  window.addEventListener("hashchange", openFromHash);
  apply();
  openFromHash();
})();
