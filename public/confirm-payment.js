// /billing/confirm/:payment_intent: shows "Authenticate payment" once Stripe.js is loaded; the
// button opens the bank's challenge (Stripe.js handleNextAction), then the page reloads to show
// what Stripe says about the payment now. Plain script: works whether or not the page hydrated.
(function () {
  'use strict';

  function wire(box) {
    if (box.dataset.wired) return;
    box.dataset.wired = '1';
    var button = document.getElementById('confirm-payment-button');
    var error = document.getElementById('confirm-payment-error');
    function fail(message) {
      error.textContent = message;
      error.hidden = false;
      button.disabled = false;
    }
    box.hidden = false;
    var withoutJs = document.getElementById('confirm-payment-without-js');
    if (withoutJs) withoutJs.hidden = true;
    button.addEventListener('click', function () {
      button.disabled = true;
      error.hidden = true;
      var stripe = window.Stripe(box.dataset.publishableKey);
      stripe.handleNextAction({ clientSecret: box.dataset.clientSecret }).then(function (result) {
        if (result.error) {
          fail(result.error.message || 'Your bank did not confirm the payment.');
        } else {
          window.location.reload();
        }
      });
    });
  }

  // Stripe.js and this script may load in either order (a page rendered in the browser adds
  // both at once): wait for both the form and Stripe.
  var tries = 0;
  (function ready() {
    var box = document.getElementById('confirm-payment');
    if (box && window.Stripe) return wire(box);
    if (++tries > 100) {
      if (box) {
        box.hidden = false;
        document.getElementById('confirm-payment-button').disabled = true;
        var error = document.getElementById('confirm-payment-error');
        error.textContent = 'Stripe could not be loaded. Reload the page, or confirm on the invoice page.';
        error.hidden = false;
      }
      return;
    }
    setTimeout(ready, 100);
  })();
})();
