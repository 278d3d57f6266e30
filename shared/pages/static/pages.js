/* Behaviour every page shares, as a file: the CSP allows no inline script or handler. */
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var target = ev.target.closest ? ev.target.closest("[data-print]") : null;
    if (target) { ev.preventDefault(); window.print(); }
  });
})();
