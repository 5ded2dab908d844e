/* The printable results summary: a button that opens the browser's print dialog. */
"use strict";
(function () {
  const button = document.getElementById("print-button");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
})();
