/* frontline map client, module 5: the second source on the map (Liveuamap via NZZ).
 *
 * A source switch in the map's lower left corner, from the vocabulary's source_views:
 *   DeepState (the default)   DeepState's zones, as drawn by the map itself;
 *   Liveuamap via NZZ         Liveuamap's Russian-held area on its day (the latest NZZ period ending
 *                             on or before the map's day) in place of DeepState's zones;
 *   Where they disagree       over DeepState's zones, the areas only DeepState calls Russian-held
 *                             and those only Liveuamap does, with their km².
 * The switch is the map's state.source (the permalink's source=). Days before DeepState's record
 * are Liveuamap's whatever the switch says (the map draws them as its zones). Shown only when the
 * store holds Liveuamap's days (meta.second_source). Uses only window.frontline.
 */
(function () {
  "use strict";

  var fl = window.frontline;
  if (!fl) return;
  var box = null, note = null, radios = {}, vocab = null, seq = 0, hidden = null, available = null;

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; });
  }

  function km2(v) { return Number(v).toLocaleString("en-GB", { maximumFractionDigits: 0 }) + " km²"; }

  function build() {
    box = document.createElement("div");
    box.className = "fl-sources-switch";
    var title = document.createElement("div");
    title.className = "fl-sources-title";
    title.textContent = "Source";
    box.appendChild(title);
    vocab.source_views.forEach(function (s) {
      var label = document.createElement("label");
      var input = document.createElement("input");
      input.type = "radio";
      input.name = "fl-source";
      input.value = s.key;
      input.addEventListener("change", function () { if (input.checked) fl.setSource(s.key); });
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + s.label));
      if (s.key === "disagree") {
        var a = document.createElement("span"), b = document.createElement("span");
        a.className = "fl-swatch fl-swatch-deepstate-only";
        b.className = "fl-swatch fl-swatch-liveuamap-only";
        label.appendChild(a);
        label.appendChild(b);
      }
      radios[s.key] = input;
      box.appendChild(label);
    });
    note = document.createElement("div");
    note.className = "fl-sources-note";
    note.setAttribute("aria-live", "polite");
    box.appendChild(note);
    var credit = document.createElement("a");
    credit.href = vocab.liveuamap.url;
    credit.textContent = "Please credit and support Liveuamap";
    credit.className = "fl-sources-credit";
    box.appendChild(credit);
    return fl.addControl(box);
  }

  /* Liveuamap's view hides DeepState's zones and front line (silently: the link keeps the reader's layers). */
  function hideZones(on) {
    var zones = vocab.zones.concat(["front"]);
    if (on && !hidden) {
      hidden = zones.filter(function (k) { return fl.state.layers.indexOf(k) >= 0; });
      hidden.forEach(function (k) { fl.setLayerVisible(k, false, true); });
    } else if (!on && hidden) {
      hidden.forEach(function (k) { fl.setLayerVisible(k, true, true); });
      hidden = null;
    }
  }

  function clear() {
    fl.overlay("liveuamap", null);
    fl.overlay("deepstate_only", null);
    fl.overlay("liveuamap_only", null);
  }

  function apply() {
    var st = fl.state;
    if (!st || !box) return;
    var src = st.source || vocab.default_source_view;
    if (radios[src]) radios[src].checked = true;
    var mine = ++seq;
    if (src === vocab.default_source_view) {
      clear();
      hideZones(false);
      note.textContent = "";
      return;
    }
    getJSON("/data/sources/" + st.date + ".json").then(function (p) {
      if (mine !== seq) return;
      var c = vocab.colors, z = vocab.style.zone;
      clear();
      if (!p || !p.date) { hideZones(false); note.textContent = "Liveuamap has no day on or before " + st.date + "."; return; }
      var when = p.date === st.date ? "" : " (its period ending " + p.date + ")";
      if (src === "liveuamap") {
        hideZones(true);
        fl.overlay("liveuamap", p.held, { color: c.occupied, weight: z.weight, opacity: z.opacity, fillColor: c.occupied,
                                          fillOpacity: vocab.zone_opacity.occupied });
        note.textContent = vocab.liveuamap.short + when + ": Russian-held " + km2(p.held_km2) + ".";
      } else {
        hideZones(false);
        if (!p.disagree) {
          note.textContent = "DeepState has no map of " + p.date + ", Liveuamap's day" + when + ": nothing to compare.";
          return;
        }
        var s = vocab.style.change;
        fl.overlay("deepstate_only", p.disagree.deepstate_only, { color: c.deepstate_only, weight: s.weight,
                                                                  fillColor: c.deepstate_only, fillOpacity: s.fill_opacity });
        fl.overlay("liveuamap_only", p.disagree.liveuamap_only, { color: c.liveuamap_only, weight: s.weight,
                                                                  fillColor: c.liveuamap_only, fillOpacity: s.fill_opacity });
        note.textContent = "Only DeepState: " + km2(p.deepstate_only_km2) + "; only Liveuamap" + when + ": " +
          km2(p.liveuamap_only_km2) + ".";
      }
    });
  }

  fl.on("painted", function (e) {
    if (available === false) return;
    if (available === null) {
      available = false;  // decided once per page: a store without Liveuamap's days shows no switch
      if (!fl.meta || !fl.meta.second_source) return;
      getJSON("/data/vocab.json").then(function (v) {
        vocab = v;
        if (!vocab) return;
        available = build();
        if (available) apply();
      });
      return;
    }
    if (box && fl.state.source) apply();
  });
  fl.on("statechange", function (e) { if (box && e.changed.indexOf("source") >= 0) apply(); });
  // A page that owns its URL (the briefing's wall screen) gets no switch: it shows DeepState's map.
  fl.on("init", function (e) { box = null; available = e && e.url === false ? false : null; hidden = null; seq++; });
})();
