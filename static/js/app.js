// Behaviour the screens share, attached by data attributes: no inline scripts or handlers, so the
// Content-Security-Policy can forbid them. Event delegation keeps it working on htmx-swapped content.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    // Member profile tabs: mark the clicked one active and remember it for the membership switcher.
    var tab = event.target.closest("[data-tab]");
    if (tab && tab.closest("#profile-tabs")) {
      document.querySelectorAll("#profile-tabs .nav-link").forEach(function (button) {
        button.classList.toggle("active", button === tab);
      });
      document.querySelectorAll("input[data-current-tab]").forEach(function (input) {
        input.value = tab.dataset.tab;
      });
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-submit-on-change]")) {
      target.form.requestSubmit();
    }
    // "Select all" boxes: data-select-all names the boxes it ticks; data-selected-count the counter.
    if (target.matches("[data-select-all]")) {
      document.querySelectorAll(target.dataset.selectAll).forEach(function (box) {
        box.checked = target.checked;
      });
    }
    var counted = target.closest("[data-selected-count]") || document.querySelector("[data-selected-count]");
    if (counted && (target.matches("[data-select-all]") || target.matches(counted.dataset.boxes || "input"))) {
      var count = document.querySelectorAll(counted.dataset.boxes + ":checked").length;
      counted.textContent = count + " selected";
    }
  });
})();
