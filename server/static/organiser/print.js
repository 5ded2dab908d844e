/* Printing: the results summary's print button, and on the rally page a confirmation before
   exporting codes whose address phones will probably not reach. */
"use strict";
(function () {
  const button = document.getElementById("print-button");
  if (button) { button.addEventListener("click", function () { window.print(); }); }

  const box = document.getElementById("print-address");
  const question = box && box.dataset.confirm;
  if (!question) { return; }
  document.querySelectorAll("a.qr-export").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (!window.confirm(question)) { event.preventDefault(); }
    });
  });
})();
