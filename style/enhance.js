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

// A running execution's page refreshes itself every 2 seconds (without JavaScript: reload).
(function () {
  var live = document.querySelector("[data-live-execution]");
  if (!live) return;
  function refresh() {
    // Not while someone is typing a note.
    var active = document.activeElement;
    if (active && (active.tagName === "TEXTAREA" || active.tagName === "INPUT")) {
      setTimeout(refresh, 2000);
      return;
    }
    location.reload();
  }
  setTimeout(refresh, 2000);
})();
