// Progressive enhancement only: every feature works without this script.
document.documentElement.classList.add("js");

// Decision deadlines tick down (the server already rendered the right value).
(function () {
  var words = {
    fr: { left: function (t) { return "il reste " + t; }, late: function (t) { return "En retard de " + t; } },
    en: { left: function (t) { return t + " left"; }, late: function (t) { return "Overdue by " + t; } },
  };
  function span(seconds) {
    var s = Math.abs(seconds), m = Math.floor(s / 60), h = Math.floor(m / 60);
    if (h > 0) return h + " h " + String(m % 60).padStart(2, "0") + " min";
    return m + " min " + String(Math.floor(s % 60)).padStart(2, "0") + " s";
  }
  function tick() {
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var w = words[el.dataset.lang] || words.fr;
      var left = (Date.parse(el.dataset.deadline) - Date.now()) / 1000;
      el.textContent = left >= 0 ? w.left(span(left)) : w.late(span(left));
      el.classList.toggle("overdue", left < 0);
    });
  }
  if (document.querySelector("[data-deadline]")) { tick(); setInterval(tick, 1000); }
})();

// Live regions: an element with an id and data-live="seconds" is fetched again from the same
// URL and its content replaced in place, without reloading the page: focus, scroll position
// and anything being typed stay (a region with a field someone changed waits). A region the
// server sends back without data-live stops (the execution ended). Without JavaScript the
// page offers a refresh link instead.
(function () {
  if (!window.fetch || !window.DOMParser) return;
  function live() { return document.querySelectorAll("[data-live][id]"); }
  if (!live().length) return;
  function dirty(region) {
    return [].some.call(region.querySelectorAll("input, textarea, select"), function (f) {
      if (f.type === "hidden") return false;
      if (f.type === "checkbox" || f.type === "radio") return f.checked !== f.defaultChecked;
      if (f.tagName === "SELECT") return [].some.call(f.options, function (o) { return o.selected !== o.defaultSelected; });
      return f.value !== f.defaultValue;
    }) || (document.activeElement && region.contains(document.activeElement) &&
           /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName));
  }
  function every() {
    return Math.max(1, Math.min.apply(null, [].map.call(live(), function (r) {
      return Number(r.dataset.live) || 30;
    }))) * 1000;
  }
  function swap(region, fresh) {
    var focused = document.activeElement && region.contains(document.activeElement) ? document.activeElement.id : "";
    var pinned = {};
    region.querySelectorAll("pre[id]").forEach(function (pre) {
      pinned[pre.id] = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    });
    region.innerHTML = fresh.innerHTML;
    region.className = fresh.className;
    region.querySelectorAll("pre[id]").forEach(function (pre) {
      if (pinned[pre.id]) pre.scrollTop = pre.scrollHeight;
    });
    if (focused) {
      var again = document.getElementById(focused);
      if (again) again.focus({ preventScroll: true });
    }
  }
  function refresh() {
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        live().forEach(function (region) {
          var fresh = doc.getElementById(region.id);
          if (!fresh) return;
          if (fresh.innerHTML !== region.innerHTML && !dirty(region)) swap(region, fresh);
          if (fresh.hasAttribute("data-live")) region.dataset.live = fresh.dataset.live;
          else if (!dirty(region)) region.removeAttribute("data-live");
        });
        if (live().length) setTimeout(refresh, every());
      })
      .catch(function () { if (live().length) setTimeout(refresh, every() * 2); });
  }
  setTimeout(refresh, every());
})();
