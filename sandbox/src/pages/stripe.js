/*
 * stripe-sandbox's stand-in for Stripe.js (https://js.stripe.com/v3/), served at {sandbox}/v3/.
 * It implements the part of Stripe.js's documented API a billing app uses, against the sandbox's
 * API (found from this script's own URL): Stripe(), elements() with the Payment Element (a plain
 * DOM card form), confirmPayment / confirmSetup / confirmCardPayment / confirmCardSetup,
 * handleNextAction, retrievePaymentIntent / retrieveSetupIntent, createPaymentMethod, and
 * initEmbeddedCheckout. As in Stripe.js, promises resolve (never reject) to a result or
 * {error}; a redirect leaves the promise pending while the browser navigates.
 */
(function () {
  'use strict';
  if (window.Stripe && window.Stripe.__sandbox) return;

  var script = document.currentScript;
  var BASE = (script && script.src ? script.src : location.href).replace(/\/v3\/?(?:[?#].*)?$/, '');
  var ORIGIN = new URL(BASE, location.href).origin;
  var counter = 0;

  // ---------------------------------------------------------------- HTTP

  /** Stripe's form encoding: a[b][0][c]=v. */
  function encode(params, prefix, out) {
    out = out || [];
    Object.keys(params || {}).forEach(function (key) {
      var value = params[key];
      var name = prefix ? prefix + '[' + key + ']' : key;
      if (value === undefined || value === null) return;
      if (Array.isArray(value)) {
        value.forEach(function (item, i) {
          if (item !== null && typeof item === 'object') encode(item, name + '[' + i + ']', out);
          else out.push(encodeURIComponent(name + '[]') + '=' + encodeURIComponent(item));
        });
      } else if (typeof value === 'object') {
        encode(value, name, out);
      } else {
        out.push(encodeURIComponent(name) + '=' + encodeURIComponent(value));
      }
    });
    return out.join('&');
  }

  /** One API call with the publishable key, sent as Stripe.js does (the `key` parameter, not a
   *  header); resolves {body} or {error} (never rejects). */
  function call(stripe, method, path, params) {
    var headers = {};
    if (stripe._account) headers['stripe-account'] = stripe._account;
    var url = BASE + path;
    var init = { method: method, headers: headers };
    var withKey = { key: stripe._key };
    Object.keys(params || {}).forEach(function (name) { withKey[name] = params[name]; });
    var query = encode(withKey);
    if (method === 'GET') {
      if (query) url += '?' + query;
    } else {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      init.body = query;
    }
    return fetch(url, init).then(
      function (response) {
        return response.json().then(
          function (body) {
            return response.ok ? { body: body } : { error: body.error || { type: 'api_error', message: 'Unexpected answer.' } };
          },
          function () {
            return { error: { type: 'api_error', message: 'The sandbox answered ' + response.status + ' without JSON.' } };
          }
        );
      },
      function (e) {
        return { error: { type: 'api_connection_error', message: 'Could not reach the Stripe sandbox: ' + e.message } };
      }
    );
  }

  function integrationError(message) {
    return Promise.resolve({ error: { type: 'invalid_request_error', code: 'integration_error', message: message } });
  }

  /** 'pi_123_secret_abc' → {kind, id}. */
  function parseSecret(clientSecret) {
    var match = /^((pi|seti|cs_test|cs_live)_[A-Za-z0-9]+)_secret_/.exec(clientSecret || '');
    if (!match) return null;
    var kind = match[2] === 'pi' ? 'payment_intent' : match[2] === 'seti' ? 'setup_intent' : 'checkout_session';
    return { kind: kind, id: match[1] };
  }

  var PATHS = { payment_intent: '/v1/payment_intents/', setup_intent: '/v1/setup_intents/' };
  var RESULT_KEYS = { payment_intent: 'paymentIntent', setup_intent: 'setupIntent' };

  function retrieve(stripe, clientSecret) {
    var parsed = parseSecret(clientSecret);
    if (!parsed || !PATHS[parsed.kind]) return integrationError('Invalid value for clientSecret: ' + clientSecret);
    return call(stripe, 'GET', PATHS[parsed.kind] + parsed.id, { client_secret: clientSecret }).then(function (r) {
      if (r.error) return { error: r.error };
      var result = {};
      result[RESULT_KEYS[parsed.kind]] = r.body;
      return result;
    });
  }

  // ---------------------------------------------------------------- the Payment Element

  var STYLE =
    '.sb-payment-element{font-family:system-ui,sans-serif;display:grid;gap:.6rem}' +
    '.sb-payment-element label{display:block;font-size:.9rem;margin-bottom:.2rem}' +
    '.sb-payment-element input{font-size:1rem;padding:.5rem;width:100%;box-sizing:border-box;border:1px solid #c7cbd1;border-radius:6px}' +
    '.sb-payment-element .sb-row{display:grid;grid-template-columns:1fr 1fr 1fr;gap:.6rem}' +
    '.sb-payment-element [role=alert]{color:#b3261e;margin:0}.sb-payment-element .sb-hint{color:#697386;font-size:.8rem;margin:0}' +
    '.sb-overlay{position:fixed;inset:0;background:rgba(0,0,0,.45);display:flex;align-items:center;justify-content:center;z-index:2147483647}' +
    '.sb-overlay iframe{width:min(30rem,92vw);height:min(34rem,86vh);border:0;border-radius:10px;background:#fff}' +
    '.sb-embedded-checkout{width:100%;min-height:40rem;border:0}';

  // Stripe.js puts nothing on the merchant's page that a strict CSP (`style-src 'self'`) refuses:
  // its forms live in its own frames. The stand-in's form is in the page, so its look comes as a
  // constructed stylesheet, which CSP leaves alone (an inline <style> it would refuse).
  var styled = false;
  function addStyle() {
    if (styled) return;
    styled = true;
    if (typeof CSSStyleSheet !== 'function' || !('adoptedStyleSheets' in document)) return;
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
    document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
  }

  function resolveTarget(target) {
    var node = typeof target === 'string' ? document.querySelector(target) : target;
    if (!node || !node.appendChild) throw new Error('IntegrationError: the selector ' + target + ' matches no element to mount into.');
    return node;
  }

  /** The card the form holds, validated with Stripe.js's messages: {card, postal} or {error}. */
  function readCard(fields) {
    var number = fields.number.value.replace(/[\s-]/g, '');
    var expiry = fields.expiry.value.replace(/\D/g, '');
    var cvc = fields.cvc.value.trim();
    var zip = fields.zip.value.trim();
    function invalid(code, message, field) {
      return { error: { type: 'validation_error', code: code, message: message }, field: field };
    }
    if (!number) return invalid('incomplete_number', 'Your card number is incomplete.', fields.number);
    if (!/^\d{12,19}$/.test(number) || !luhn(number)) return invalid('invalid_number', 'Your card number is invalid.', fields.number);
    if (expiry.length !== 4 && expiry.length !== 6) return invalid('incomplete_expiry', "Your card's expiration date is incomplete.", fields.expiry);
    var month = parseInt(expiry.slice(0, 2), 10);
    var year = parseInt(expiry.slice(2), 10);
    if (year < 100) year += 2000;
    if (month < 1 || month > 12) return invalid('invalid_expiry_month', "Your card's expiration date is invalid.", fields.expiry);
    var now = new Date();
    if (year < now.getFullYear()) return invalid('invalid_expiry_year_past', "Your card's expiration year is in the past.", fields.expiry);
    if (year === now.getFullYear() && month < now.getMonth() + 1) return invalid('invalid_expiry_month_past', "Your card's expiration date is in the past.", fields.expiry);
    if (!/^\d{3,4}$/.test(cvc)) return invalid('incomplete_cvc', "Your card's security code is incomplete.", fields.cvc);
    if (!zip) return invalid('incomplete_zip', 'Your postal code is incomplete.', fields.zip);
    return { card: { number: number, exp_month: month, exp_year: year, cvc: cvc }, postal: zip };
  }

  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = +digits[digits.length - 1 - i];
      if (i % 2 === 1) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
    }
    return sum % 10 === 0;
  }

  function PaymentElement(elements, options) {
    this._elements = elements;
    this._options = options || {};
    this._handlers = {};
    this._node = null;
    this._fields = null;
    this._destroyed = false;
  }

  PaymentElement.prototype._build = function () {
    var n = ++counter;
    var id = function (name) {
      return 'stripe-sandbox-' + name + '-' + n;
    };
    var root = document.createElement('div');
    root.className = 'sb-payment-element';
    root.setAttribute('data-stripe-sandbox', 'payment-element');
    root.innerHTML =
      '<div><label for="' + id('number') + '">Card number</label>' +
      '<input id="' + id('number') + '" inputmode="numeric" autocomplete="cc-number" placeholder="1234 1234 1234 1234"></div>' +
      '<div class="sb-row">' +
      '<div><label for="' + id('expiry') + '">Expiration</label><input id="' + id('expiry') + '" autocomplete="cc-exp" placeholder="MM / YY"></div>' +
      '<div><label for="' + id('cvc') + '">CVC</label><input id="' + id('cvc') + '" inputmode="numeric" autocomplete="cc-csc" placeholder="CVC"></div>' +
      '<div><label for="' + id('zip') + '">ZIP</label><input id="' + id('zip') + '" autocomplete="postal-code" placeholder="12345"></div>' +
      '</div><p role="alert" hidden></p>' +
      '<p class="sb-hint">Test mode: use 4242 4242 4242 4242, any future date, any CVC and ZIP.</p>';
    var q = function (name) {
      return root.querySelector('#' + id(name));
    };
    this._fields = { number: q('number'), expiry: q('expiry'), cvc: q('cvc'), zip: q('zip'), alert: root.querySelector('[role=alert]') };
    var self = this;
    ['number', 'expiry', 'cvc', 'zip'].forEach(function (name) {
      self._fields[name].addEventListener('input', function () {
        self._showError(null);
        self._emit('change', self._state());
      });
      self._fields[name].addEventListener('focus', function () {
        self._emit('focus', { elementType: 'payment' });
      });
      self._fields[name].addEventListener('blur', function () {
        self._emit('blur', { elementType: 'payment' });
      });
    });
    return root;
  };

  PaymentElement.prototype._state = function () {
    var f = this._fields;
    var empty = !(f.number.value || f.expiry.value || f.cvc.value || f.zip.value);
    return { elementType: 'payment', complete: !readCard(f).error, empty: empty, collapsed: false, value: { type: 'card' } };
  };

  PaymentElement.prototype._emit = function (event, payload) {
    (this._handlers[event] || []).slice().forEach(function (handler) {
      handler(payload);
    });
  };

  PaymentElement.prototype._showError = function (message) {
    if (!this._fields) return;
    this._fields.alert.textContent = message || '';
    this._fields.alert.hidden = !message;
  };

  /** Validates and shows the first problem: {card, postal} or {error}. */
  PaymentElement.prototype._validate = function () {
    if (!this._fields || !this._node || !this._node.isConnected) {
      return { error: { type: 'validation_error', code: 'incomplete', message: 'The Payment Element is not mounted.' } };
    }
    var read = readCard(this._fields);
    this._showError(read.error ? read.error.message : null);
    if (read.field) read.field.focus();
    return read;
  };

  PaymentElement.prototype.mount = function (target) {
    if (this._destroyed) throw new Error('IntegrationError: this Element has been destroyed.');
    addStyle();
    if (!this._node) this._node = this._build();
    resolveTarget(target).appendChild(this._node);
    var self = this;
    setTimeout(function () {
      self._emit('ready', { elementType: 'payment' });
    }, 0);
  };
  PaymentElement.prototype.unmount = function () {
    if (this._node && this._node.parentNode) this._node.parentNode.removeChild(this._node);
  };
  PaymentElement.prototype.destroy = function () {
    this.unmount();
    this._destroyed = true;
    this._elements._payment = null;
  };
  PaymentElement.prototype.on = function (event, handler) {
    (this._handlers[event] = this._handlers[event] || []).push(handler);
    return this;
  };
  PaymentElement.prototype.off = function (event, handler) {
    this._handlers[event] = (this._handlers[event] || []).filter(function (h) {
      return handler && h !== handler;
    });
    return this;
  };
  PaymentElement.prototype.focus = function () {
    if (this._fields) this._fields.number.focus();
  };
  PaymentElement.prototype.blur = function () {
    if (this._fields && document.activeElement && this._node.contains(document.activeElement)) document.activeElement.blur();
  };
  PaymentElement.prototype.clear = function () {
    if (!this._fields) return;
    ['number', 'expiry', 'cvc', 'zip'].forEach(function (name) {
      this._fields[name].value = '';
    }, this);
    this._showError(null);
  };
  PaymentElement.prototype.update = function (options) {
    Object.assign(this._options, options || {});
  };
  PaymentElement.prototype.collapse = function () {};

  // ---------------------------------------------------------------- Elements

  function Elements(stripe, options) {
    this._stripe = stripe;
    this._options = Object.assign({}, options || {});
    this._payment = null;
    this._submitted = false;
  }

  Elements.prototype.create = function (type, options) {
    if (type !== 'payment') throw new Error('IntegrationError: the Stripe sandbox implements the "payment" Element only (got "' + type + '").');
    if (this._payment) throw new Error('IntegrationError: Can only create one Element of type payment.');
    this._payment = new PaymentElement(this, options);
    return this._payment;
  };
  Elements.prototype.getElement = function (type) {
    return type === 'payment' ? this._payment : null;
  };
  Elements.prototype.update = function (options) {
    Object.assign(this._options, options || {});
  };
  /** Validates the form (required before confirming in the deferred `mode` flow). */
  Elements.prototype.submit = function () {
    if (!this._payment) return integrationError('elements.submit(): create and mount the Payment Element first.');
    var read = this._payment._validate();
    if (read.error) return Promise.resolve({ error: read.error });
    this._submitted = true;
    return Promise.resolve({ selectedPaymentMethod: 'card' });
  };
  Elements.prototype.fetchUpdates = function () {
    var secret = this._options.clientSecret;
    if (!secret) return Promise.resolve({});
    return retrieve(this._stripe, secret).then(function (r) {
      return r.error ? { error: r.error } : {};
    });
  };

  /** `payment_method_data` for what the Payment Element holds (plus the caller's extra data). */
  function cardData(element, extra) {
    var read = element._validate();
    if (read.error) return read;
    var data = Object.assign({}, extra || {});
    var billing = Object.assign({}, data.billing_details || {});
    billing.address = Object.assign({ postal_code: read.postal }, billing.address || {});
    data.type = 'card';
    data.card = read.card;
    data.billing_details = billing;
    return { data: data };
  }

  // ---------------------------------------------------------------- 3-D Secure and redirects

  /** `return_url` with Stripe's query parameters for an intent. */
  function returnUrl(url, kind, intent) {
    var u = new URL(url, location.href);
    var status = { succeeded: 'succeeded', processing: 'processing', requires_capture: 'succeeded' }[intent.status] || 'failed';
    u.searchParams.append(kind, intent.id);
    u.searchParams.append(kind + '_client_secret', intent.client_secret);
    u.searchParams.append('redirect_status', status);
    return u.toString();
  }

  var NEVER = new Promise(function () {});

  function navigate(url) {
    window.location.assign(url);
    return NEVER;
  }

  /** Shows the intent's challenge in a modal frame; resolves when it is answered. */
  function challenge(stripe, kind, intent) {
    var action = intent.next_action || {};
    var url = action.type === 'use_stripe_sdk' ? action.use_stripe_sdk && action.use_stripe_sdk.stripe_js : action.redirect_to_url && action.redirect_to_url.url;
    if (!url) return Promise.resolve({ error: { type: 'invalid_request_error', message: 'The intent has no next action the Stripe sandbox can show.' } });
    addStyle();
    return new Promise(function (resolve) {
      var overlay = document.createElement('div');
      overlay.className = 'sb-overlay';
      var frame = document.createElement('iframe');
      frame.title = '3D Secure authentication';
      frame.name = 'stripe-sandbox-3ds';
      frame.src = url;
      overlay.appendChild(frame);
      var loads = 0;
      var done = false;
      function finish() {
        if (done) return;
        retrieve(stripe, intent.client_secret).then(function (r) {
          var current = r[RESULT_KEYS[kind]];
          if (!current || current.status === 'requires_action') return;
          done = true;
          window.removeEventListener('message', onMessage);
          overlay.remove();
          resolve(current);
        });
      }
      function onMessage(event) {
        if (event.origin === ORIGIN && event.data && event.data.type === 'stripe-sandbox:3ds-done' && event.data.intent === intent.id) finish();
      }
      window.addEventListener('message', onMessage);
      // The page answered elsewhere (e.g. redirected to a return_url): the intent says so.
      frame.addEventListener('load', function () {
        if (++loads > 1) finish();
      });
      document.body.appendChild(overlay);
    });
  }

  /** The result Stripe.js gives for an intent after its next action: the intent, or its error. */
  function settled(kind, intent) {
    var error = kind === 'payment_intent' ? intent.last_payment_error : intent.last_setup_error;
    if (intent.status === 'requires_payment_method' && error) {
      var e = Object.assign({}, error);
      e[kind] = intent;
      return { error: e };
    }
    var result = {};
    result[RESULT_KEYS[kind]] = intent;
    return result;
  }

  /** Confirms an intent and carries out what follows, as Stripe.js does. */
  function confirmIntent(stripe, kind, clientSecret, params, how) {
    var parsed = parseSecret(clientSecret);
    if (!parsed || parsed.kind !== kind) return integrationError('Invalid value for clientSecret: ' + clientSecret);
    var body = Object.assign({ client_secret: clientSecret }, params);
    return call(stripe, 'POST', PATHS[kind] + parsed.id + '/confirm', body).then(function (r) {
      if (r.error) return { error: r.error };
      var intent = r.body;
      if (intent.status === 'requires_action') {
        var action = intent.next_action || {};
        if (action.type === 'redirect_to_url' && how.redirectForAction) return navigate(action.redirect_to_url.url);
        if (how.handleActions === false) return settled(kind, intent);
        return challenge(stripe, kind, intent).then(function (after) {
          if (!after.id) return after;
          if (how.returnUrl && how.redirect !== 'if_required') return navigate(returnUrl(how.returnUrl, kind, after));
          return settled(kind, after);
        });
      }
      if (how.returnUrl && how.redirect !== 'if_required') return navigate(returnUrl(how.returnUrl, kind, intent));
      return settled(kind, intent);
    });
  }

  /** confirmPayment / confirmSetup with Elements. */
  function confirmWithElements(stripe, kind, name, options) {
    options = options || {};
    var elements = options.elements;
    var confirmParams = Object.assign({}, options.confirmParams || {});
    var redirect = options.redirect || 'always';
    if (!elements || !elements._payment) return integrationError(name + '(): pass the `elements` instance the Payment Element was created from.');
    var clientSecret = options.clientSecret || elements._options.clientSecret;
    if (!clientSecret) return integrationError(name + '(): pass `clientSecret` (deferred intent flow) or create Elements with one.');
    if (!elements._options.clientSecret && !elements._submitted) {
      return integrationError('elements.submit() must be called before stripe.' + name + '(). Call elements.submit() as soon as your customer presses pay, prior to any asynchronous work.');
    }
    if (redirect !== 'if_required' && !confirmParams.return_url) {
      return integrationError(name + "(): the `confirmParams.return_url` argument is required unless passing `redirect: 'if_required'`");
    }
    var card = cardData(elements._payment, confirmParams.payment_method_data);
    if (card.error) return Promise.resolve({ error: card.error });
    confirmParams.payment_method_data = card.data;
    var returnTo = confirmParams.return_url;
    // Without redirects a card's challenge shows in a frame (Stripe answers `use_stripe_sdk`).
    if (redirect === 'if_required') delete confirmParams.return_url;
    return confirmIntent(stripe, kind, clientSecret, confirmParams, {
      returnUrl: returnTo,
      redirect: redirect,
      redirectForAction: redirect !== 'if_required',
    });
  }

  /** confirmCardPayment / confirmCardSetup: `data.payment_method` is an id, or {card: element}. */
  function confirmCard(stripe, kind, clientSecret, data, options) {
    data = Object.assign({}, data || {});
    var params = {};
    Object.keys(data).forEach(function (key) {
      if (key !== 'payment_method') params[key] = data[key];
    });
    var method = data.payment_method;
    if (typeof method === 'string') {
      params.payment_method = method;
    } else if (method && method.card) {
      var card = cardData(method.card, { billing_details: method.billing_details });
      if (card.error) return Promise.resolve({ error: card.error });
      params.payment_method_data = card.data;
    }
    return confirmIntent(stripe, kind, clientSecret, params, {
      handleActions: !options || options.handleActions !== false,
      returnUrl: null,
      redirectForAction: false,
    });
  }

  // ---------------------------------------------------------------- embedded Checkout

  function EmbeddedCheckout(clientSecret, options) {
    this._secret = clientSecret;
    this._options = options;
    this._frame = null;
    this._destroyed = false;
    var self = this;
    this._onMessage = function (event) {
      var data = event.data || {};
      if (event.origin !== ORIGIN || data.type !== 'stripe-sandbox:checkout-complete') return;
      if (!self._frame || event.source !== self._frame.contentWindow) return;
      if (data.return_url) {
        window.location.assign(data.return_url);
      } else if (typeof self._options.onComplete === 'function') {
        self._options.onComplete();
      }
    };
  }
  EmbeddedCheckout.prototype.mount = function (target) {
    if (this._destroyed) throw new Error('IntegrationError: this embedded Checkout has been destroyed.');
    addStyle();
    var parsed = parseSecret(this._secret);
    var frame = document.createElement('iframe');
    frame.className = 'sb-embedded-checkout';
    frame.title = 'Embedded Checkout';
    frame.name = 'embedded-checkout';
    frame.src = BASE + '/checkout/' + encodeURIComponent(parsed.id) + '?client_secret=' + encodeURIComponent(this._secret);
    resolveTarget(target).appendChild(frame);
    this._frame = frame;
    window.addEventListener('message', this._onMessage);
  };
  EmbeddedCheckout.prototype.unmount = function () {
    window.removeEventListener('message', this._onMessage);
    if (this._frame) this._frame.remove();
    this._frame = null;
  };
  EmbeddedCheckout.prototype.destroy = function () {
    this.unmount();
    this._destroyed = true;
  };

  // ---------------------------------------------------------------- Stripe()

  function StripeSandbox(key, options) {
    if (!(this instanceof StripeSandbox)) return new StripeSandbox(key, options);
    if (typeof key !== 'string' || !key) throw new Error('IntegrationError: Please call Stripe() with your publishable key. You used an empty string.');
    if (/^sk_/.test(key)) throw new Error('IntegrationError: You should not use your secret key with Stripe.js. Please pass a publishable key instead.');
    if (!/^pk_test_/.test(key)) throw new Error('IntegrationError: Invalid value for Stripe(): apiKey should be a publishable key (pk_test_…) in the Stripe sandbox.');
    this._key = key;
    this._account = options && options.stripeAccount;
  }

  StripeSandbox.prototype.elements = function (options) {
    return new Elements(this, options);
  };
  StripeSandbox.prototype.confirmPayment = function (options) {
    return confirmWithElements(this, 'payment_intent', 'confirmPayment', options);
  };
  StripeSandbox.prototype.confirmSetup = function (options) {
    return confirmWithElements(this, 'setup_intent', 'confirmSetup', options);
  };
  StripeSandbox.prototype.confirmCardPayment = function (clientSecret, data, options) {
    return confirmCard(this, 'payment_intent', clientSecret, data, options);
  };
  StripeSandbox.prototype.confirmCardSetup = function (clientSecret, data, options) {
    return confirmCard(this, 'setup_intent', clientSecret, data, options);
  };
  StripeSandbox.prototype.handleNextAction = function (options) {
    var stripe = this;
    var clientSecret = options && options.clientSecret;
    var parsed = parseSecret(clientSecret);
    if (!parsed || !PATHS[parsed.kind]) return integrationError('handleNextAction(): invalid clientSecret.');
    return retrieve(stripe, clientSecret).then(function (r) {
      var intent = r[RESULT_KEYS[parsed.kind]];
      if (!intent) return r;
      if (intent.status !== 'requires_action') return settled(parsed.kind, intent);
      return challenge(stripe, parsed.kind, intent).then(function (after) {
        return after.id ? settled(parsed.kind, after) : after;
      });
    });
  };
  StripeSandbox.prototype.handleCardAction = function (clientSecret) {
    return this.handleNextAction({ clientSecret: clientSecret });
  };
  StripeSandbox.prototype.retrievePaymentIntent = function (clientSecret) {
    return retrieve(this, clientSecret);
  };
  StripeSandbox.prototype.retrieveSetupIntent = function (clientSecret) {
    return retrieve(this, clientSecret);
  };
  /** createPaymentMethod({elements, params}) or the older ({type: 'card', card: element}). */
  StripeSandbox.prototype.createPaymentMethod = function (options) {
    options = options || {};
    var element = options.elements ? options.elements._payment : options.card;
    if (!element) return integrationError('createPaymentMethod(): pass `elements` (or `card`).');
    var extra = options.params || { billing_details: options.billing_details };
    var card = cardData(element, extra);
    if (card.error) return Promise.resolve({ error: card.error });
    return call(this, 'POST', '/v1/payment_methods', card.data).then(function (r) {
      return r.error ? { error: r.error } : { paymentMethod: r.body };
    });
  };
  /** Resolves to the embedded Checkout for `clientSecret` (or what `fetchClientSecret` gives). */
  StripeSandbox.prototype.initEmbeddedCheckout = function (options) {
    options = options || {};
    var secret = options.fetchClientSecret ? Promise.resolve().then(options.fetchClientSecret) : Promise.resolve(options.clientSecret);
    return secret.then(function (clientSecret) {
      var parsed = parseSecret(clientSecret);
      if (!parsed || parsed.kind !== 'checkout_session') {
        throw new Error('IntegrationError: initEmbeddedCheckout(): invalid client secret ' + clientSecret + ' (a Checkout Session created with ui_mode=embedded_page).');
      }
      return new EmbeddedCheckout(clientSecret, options);
    });
  };

  StripeSandbox.__sandbox = true;
  StripeSandbox.version = 3;
  window.Stripe = StripeSandbox;
})();
