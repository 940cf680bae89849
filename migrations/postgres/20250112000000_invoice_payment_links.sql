-- Which invoice each PaymentIntent paid, as the invoice lists it. Kept apart from `payments`
-- because the invoice's event may be applied before the payment's: the link waits here and the
-- payment row picks it up when it is written.
CREATE TABLE invoice_payment_links (
    payment_intent_id TEXT PRIMARY KEY NOT NULL,
    invoice_id        TEXT NOT NULL
);

-- Links already known.
INSERT INTO invoice_payment_links (payment_intent_id, invoice_id)
SELECT id, invoice_id FROM payments WHERE invoice_id IS NOT NULL;
