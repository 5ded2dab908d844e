/* Printing: the results summary's print button; on the rally page the logo shown on the event
   colour as the posters print it, and a confirmation before exporting codes whose address
   phones will probably not reach. */
"use strict";
(function () {
  const button = document.getElementById("print-button");
  if (button) { button.addEventListener("click", function () { window.print(); }); }

  const colour = document.getElementById("poster-colour");
  const logo = document.querySelector("img.poster-logo");
  const plain = document.querySelector("input[name=no_colour]");
  if (colour && logo && plain) {
    const paint = function () { logo.style.backgroundColor = plain.checked ? "" : colour.value; };
    colour.addEventListener("input", paint);
    plain.addEventListener("change", paint);
    paint();
  }

  const box = document.getElementById("print-address");
  const question = box && box.dataset.confirm;
  if (!question) { return; }
  document.querySelectorAll("a.qr-export").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (!window.confirm(question)) { event.preventDefault(); }
    });
  });
})();
