// "Use my location" on the facility finder: fills the form's latitude and longitude from the
// browser's location when the visitor asks, then searches. Choosing a compound from the list
// always works without it, so the button stays hidden where this cannot run.
const button = document.querySelector("[data-near-me]");
if (button && "geolocation" in navigator && window.isSecureContext) {
  const form = button.closest("form");
  const status = document.getElementById("near-me-status");
  button.hidden = false;
  button.addEventListener("click", () => {
    status.textContent = button.dataset.waiting;
    navigator.geolocation.getCurrentPosition(
      (position) => {
        form.elements.lat.value = position.coords.latitude.toFixed(6);
        form.elements.lng.value = position.coords.longitude.toFixed(6);
        form.elements.near.value = "";
        status.textContent = "";
        form.requestSubmit();
      },
      () => {
        status.textContent = button.dataset.failed;
      },
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 },
    );
  });
}
