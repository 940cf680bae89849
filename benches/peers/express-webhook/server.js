// The bench's peer: the seed webhook receiver a Node shop would write. Express, stripe-node's
// `constructEvent` over the raw body, better-sqlite3 storing the event once (id unique,
// duplicates ignored) in WAL mode with synchronous = NORMAL (tollgate's SQLite setting), 2xx.
//
// PORT, DATABASE (a file path) and STRIPE_WEBHOOK_SECRET come from the environment. Prints
// "listening on PORT" once it accepts connections.
'use strict';

const express = require('express');
const Stripe = require('stripe');
const Database = require('better-sqlite3');

const port = Number(process.env.PORT);
const secret = process.env.STRIPE_WEBHOOK_SECRET;
if (!port || !secret || !process.env.DATABASE) {
  console.error('PORT, DATABASE and STRIPE_WEBHOOK_SECRET must be set');
  process.exit(2);
}

const db = new Database(process.env.DATABASE);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
// The same columns and indexes as tollgate's inbox (migrations/sqlite/*_webhook_inbox.sql).
db.exec(`
  CREATE TABLE IF NOT EXISTS webhook_events (
    id             TEXT    PRIMARY KEY NOT NULL,
    event_type     TEXT    NOT NULL,
    object_type    TEXT    NOT NULL,
    object_id      TEXT,
    livemode       INTEGER NOT NULL,
    stripe_created INTEGER NOT NULL,
    payload        TEXT    NOT NULL,
    status         TEXT    NOT NULL DEFAULT 'pending',
    received_at    INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS webhook_events_due ON webhook_events (status, received_at);
  CREATE INDEX IF NOT EXISTS webhook_events_object ON webhook_events (object_id, stripe_created);
`);
const insert = db.prepare(`
  INSERT INTO webhook_events
    (id, event_type, object_type, object_id, livemode, stripe_created, payload, received_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO NOTHING`);

// No secret key is needed to verify webhooks; the client is built as the docs show.
const stripe = new Stripe('sk_test_unused_by_webhook_verification');
const app = express();

app.post('/webhooks/stripe', express.raw({ type: 'application/json' }), (req, res) => {
  let event;
  try {
    event = stripe.webhooks.constructEvent(req.body, req.get('stripe-signature'), secret);
  } catch (err) {
    return res.status(400).send('bad signature');
  }
  const object = event.data.object;
  insert.run(
    event.id,
    event.type,
    object.object,
    object.id ?? null,
    event.livemode ? 1 : 0,
    event.created,
    req.body.toString('utf8'),
    Math.floor(Date.now() / 1000),
  );
  res.status(200).send('ok');
});

app.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
