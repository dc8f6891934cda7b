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

  // A link with data-opens-modal loads its content into the dialog with htmx, then shows the dialog.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var trigger = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (trigger && trigger.dataset && trigger.dataset.opensModal && window.bootstrap) {
      window.bootstrap.Modal.getOrCreateInstance(document.querySelector(trigger.dataset.opensModal)).show();
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    // The claim screen: the limited adjustment fields show only for that record type (seed 002).
    if (target.matches("[data-record-type]")) {
      document.querySelectorAll("[data-adjustment-section]").forEach(function (section) {
        section.classList.toggle("d-none", target.value !== "limited_adjustment");
      });
    }
    if (target.matches("[data-submit-on-change]")) {
      target.form.requestSubmit();
    }
    // A "select all" box ticks the boxes its data-select-all names.
    if (target.matches("[data-select-all]")) {
      document.querySelectorAll(target.dataset.selectAll).forEach(function (box) {
        box.checked = target.checked;
      });
    }
    // A counter (data-selected-count) says how many of its data-boxes are ticked.
    document.querySelectorAll("[data-selected-count]").forEach(function (counter) {
      var boxes = counter.dataset.boxes;
      if (target.matches(boxes) || target.matches("[data-select-all]")) {
        counter.textContent = document.querySelectorAll(boxes + ":checked").length + " selected";
      }
    });
  });
})();
