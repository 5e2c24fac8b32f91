// The card form: Stripe.js collects the card and confirms a SetupIntent in the browser, so the
// card number never reaches our server; only the SetupIntent id is posted back. The SetupIntent
// is asked for when the subscriber saves a card, not every time the page is shown.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("card-form");
  if (!form || typeof Stripe === "undefined") return;
  var stripe = Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  form.hidden = false;
  var status = document.getElementById("card-status");
  var clientSecret = null;

  function setupIntentSecret() {
    if (clientSecret) return Promise.resolve(clientSecret);
    return fetch(form.dataset.setupUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Accept": "application/json",
        "X-CSRFToken": form.querySelector("input[name=csrf_token]").value
      }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok || !body.client_secret) {
          throw new Error((body.error && body.error.message) || form.dataset.errorText);
        }
        clientSecret = body.client_secret;
        return clientSecret;
      });
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    status.textContent = form.dataset.savingText;
    setupIntentSecret().then(function (secret) {
      return stripe.confirmCardSetup(secret, { payment_method: { card: card } });
    }).then(function (result) {
      if (result.error) throw new Error(result.error.message);
      form.querySelector("input[name=setup_intent]").value = result.setupIntent.id;
      form.submit();
    }).catch(function (error) {
      status.textContent = error.message || form.dataset.errorText;
      button.disabled = false;
    });
  });
});
