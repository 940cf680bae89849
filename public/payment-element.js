// Paying on the app's own page (/buy/:item, /subscribe/:plan, /billing/card). The server renders
// #payment-form with what Stripe.js needs; this script mounts the Payment Element (or embedded
// Checkout), and on "Pay" asks the server to start the intent for this attempt (the form's
// fields, POSTed to data-start), then lets Stripe.js confirm it and take the browser to the
// return page. Plain script: it works whether or not the page hydrated.
(function () {
  'use strict';

  function errorText(body) {
    // Server functions answer errors as JSON: {"User": "…"} is written for the user.
    try {
      var parsed = JSON.parse(body);
      if (parsed && typeof parsed.User === 'string') return parsed.User;
      if (parsed === 'Unauthorized') return 'Please log in again.';
    } catch (e) { /* not JSON */ }
    return 'Something went wrong on our side. Please try again.';
  }

  function start(box, form) {
    return fetch(box.dataset.start, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams(new FormData(form)).toString(),
    }).then(function (response) {
      return response.text().then(function (body) {
        if (!response.ok) return { error: { message: errorText(body) } };
        return { started: JSON.parse(body) };
      });
    }, function () {
      return { error: { message: 'We could not reach the server. Check your connection and try again.' } };
    });
  }

  function wireElements(box, stripe) {
    var form = box.querySelector('form');
    var button = box.querySelector('button[type=submit]');
    var error = box.querySelector('[role=alert]');
    var options = { mode: box.dataset.kind, currency: box.dataset.currency };
    if (box.dataset.kind === 'payment') options.amount = Number(box.dataset.amount);
    var elements = stripe.elements(options);
    elements.create('payment').mount(box.querySelector('.payment-element'));
    function fail(message) {
      error.textContent = message;
      error.hidden = false;
      button.disabled = false;
    }
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      button.disabled = true;
      error.hidden = true;
      // Stripe.js wants the form validated before any asynchronous work.
      elements.submit().then(function (checked) {
        if (checked.error) return fail(checked.error.message);
        return start(box, form).then(function (result) {
          if (result.error) return fail(result.error.message);
          var started = result.started;
          var confirm = started.kind === 'setup' ? stripe.confirmSetup : stripe.confirmPayment;
          return confirm
            .call(stripe, {
              elements: elements,
              clientSecret: started.client_secret,
              confirmParams: { return_url: started.return_url },
            })
            .then(function (confirmed) {
              // Success navigates away; an answer here is a decline or a refused confirmation.
              if (confirmed.error) fail(confirmed.error.message || 'Your payment did not go through.');
            });
        });
      });
    });
  }

  function wireEmbeddedCheckout(box, stripe) {
    var form = box.querySelector('form');
    var error = box.querySelector('[role=alert]');
    stripe
      .initEmbeddedCheckout({
        fetchClientSecret: function () {
          return start(box, form).then(function (result) {
            if (result.error) throw new Error(result.error.message);
            return result.started.client_secret;
          });
        },
      })
      .then(
        function (checkout) {
          checkout.mount(box.querySelector('.embedded-checkout'));
        },
        function (e) {
          error.textContent = e.message;
          error.hidden = false;
        }
      );
  }

  function wire(box) {
    if (box.dataset.wired) return;
    box.dataset.wired = '1';
    box.hidden = false;
    var withoutJs = document.getElementById('payment-without-js');
    if (withoutJs) withoutJs.hidden = true;
    // A marketplace direct charge's intent lives on the creator's account.
    var account = box.dataset.stripeAccount;
    var stripe = window.Stripe(box.dataset.publishableKey, account ? { stripeAccount: account } : undefined);
    if (box.dataset.kind === 'embedded_checkout') wireEmbeddedCheckout(box, stripe);
    else wireElements(box, stripe);
  }

  // Stripe.js and this script may load in either order: wait for both the form and Stripe, once
  // the whole page is parsed (the no-JavaScript notice comes after this script).
  var tries = 0;
  function ready() {
    var box = document.getElementById('payment-form');
    if (box && window.Stripe) return wire(box);
    if (++tries > 100) {
      var error = box && box.querySelector('[role=alert]');
      if (error) {
        box.hidden = false;
        error.textContent = 'Stripe could not be loaded. Reload the page, or pay on Stripe\u2019s page instead.';
        error.hidden = false;
      }
      return;
    }
    setTimeout(ready, 100);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ready);
  else ready();
})();
