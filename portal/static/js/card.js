// The card form: Stripe.js collects the card and confirms the SetupIntent in the browser, so the
// card number never reaches our server; only the SetupIntent id is posted back.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("card-form");
  if (!form || typeof Stripe === "undefined") return;
  var stripe = Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  form.hidden = false;
  var status = document.getElementById("card-status");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    status.textContent = form.dataset.savingText;
    stripe.confirmCardSetup(form.dataset.clientSecret, { payment_method: { card: card } }).then(function (result) {
      if (result.error) {
        status.textContent = result.error.message;
        button.disabled = false;
        return;
      }
      form.querySelector("input[name=setup_intent]").value = result.setupIntent.id;
      form.submit();
    });
  });
});
