/* The rally page: close the event, purge personal data. */
"use strict";
(function () {
  const S = window.Staff;
  const message = document.getElementById("rally-message");
  function say(text, isError) {
    message.textContent = text;
    message.className = isError ? "flash error" : "flash";
    message.hidden = false;
  }
  const close = document.getElementById("close-button");
  if (close) {
    close.addEventListener("click", async function () {
      if (!window.confirm(S.t("organiser.rally.confirm_close"))) { return; }
      close.disabled = true;
      try {
        await S.api("POST", close.dataset.url);
        say(S.t("organiser.rally.closed_ok"), false);
        window.setTimeout(function () { window.location.reload(); }, 600);
      } catch (error) { say(error.message, true); close.disabled = false; }
    });
  }
  const purge = document.getElementById("purge-form");
  if (purge) {
    purge.addEventListener("submit", async function (event) {
      event.preventDefault();
      const button = purge.querySelector("button");
      button.disabled = true;
      try {
        const result = await S.api("POST", purge.dataset.url, { confirm: purge.elements.confirm.value.trim() });
        say(S.t("organiser.rally.purge_done", { teams: result.purged.teams }), false);
        window.setTimeout(function () { window.location.reload(); }, 900);
      } catch (error) { say(error.message, true); button.disabled = false; }
    });
  }
})();
