/* Progressive touches for the pledge page. Everything works without this file:
   it shows times in the browser's own time zone, tells the server that zone,
   and counts characters as the supporter edits the message. */
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    zone = null;
  }
  if (zone) {
    document.querySelectorAll("[data-tz-field]").forEach(function (field) {
      if (!field.value) { field.value = zone; }
    });
    document.querySelectorAll("time[data-local]").forEach(function (el) {
      var moment = new Date(el.getAttribute("datetime"));
      if (isNaN(moment.getTime())) { return; }
      el.textContent = moment.toLocaleString(lang, {
        weekday: "long", year: "numeric", month: "long", day: "numeric",
        hour: "2-digit", minute: "2-digit", timeZoneName: "short"
      });
    });
    document.querySelectorAll("[data-tz-note]").forEach(function (note) {
      var server = note.getAttribute("data-tz-note");
      if (server && server !== zone) {
        note.textContent = note.textContent.replace(server, zone);
      }
    });
  }

  var URL_RE = /https?:\/\/[^\s<>"']+/gi;
  var segmenter = null;
  try {
    segmenter = new Intl.Segmenter(lang, { granularity: "grapheme" });
  } catch (e) {
    segmenter = null;
  }
  function plain(text, weighting) {
    if (weighting === "graphemes") {
      return segmenter ? Array.from(segmenter.segment(text)).length : Array.from(text).length;
    }
    if (weighting === "code_points") { return Array.from(text).length; }
    return text.length;  // twitter-text: UTF-16 units, close to its weights (emoji weigh 2)
  }
  // As the network counts (the server checks again): each URL weighs data-url-weight,
  // or counts as written when that is empty; the rest by its weighting.
  function weighted(text, urlWeight, weighting) {
    if (urlWeight === "" || urlWeight === null) { return plain(text, weighting); }
    var urls = text.match(URL_RE) || [];
    return plain(text.replace(URL_RE, ""), weighting) + urls.length * Number(urlWeight);
  }
  document.querySelectorAll("textarea[data-count-target]").forEach(function (area) {
    var box = document.getElementById(area.getAttribute("data-count-target"));
    if (!box) { return; }
    var counter = box.querySelector("[data-count]");
    var limits = box.querySelectorAll("[data-limit]");
    function update() {
      var text = area.value.trim();
      counter.textContent = String(weighted(text, "23", null));
      limits.forEach(function (el) {
        var limit = Number(el.getAttribute("data-limit"));
        var url = el.hasAttribute("data-url-weight") ? el.getAttribute("data-url-weight") : "23";
        var length = weighted(text, url, el.getAttribute("data-weighting"));
        el.textContent = el.getAttribute("data-network") + " " + length + "/" + limit;
        el.classList.toggle("over", length > limit);
      });
    }
    box.hidden = false;
    area.addEventListener("input", update);
    update();
  });
})();
