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
  function weighted(text) {
    var urls = text.match(URL_RE) || [];
    return text.replace(URL_RE, "").length + urls.length * 23;
  }
  document.querySelectorAll("textarea[data-count-target]").forEach(function (area) {
    var box = document.getElementById(area.getAttribute("data-count-target"));
    if (!box) { return; }
    var counter = box.querySelector("[data-count]");
    var limits = box.querySelectorAll("[data-limit]");
    function update() {
      var length = weighted(area.value.trim());
      counter.textContent = String(length);
      limits.forEach(function (el) {
        var limit = Number(el.getAttribute("data-limit"));
        el.textContent = el.getAttribute("data-network") + " " + length + "/" + limit;
        el.classList.toggle("over", length > limit);
      });
    }
    box.hidden = false;
    area.addEventListener("input", update);
    update();
  });
})();
