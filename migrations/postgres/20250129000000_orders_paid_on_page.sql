-- Marketplace products can be paid on the app's own page with the Payment Element (issue 15): such
-- an order has a PaymentIntent from the start and no Checkout Session. `checkout_session_id`
-- becomes optional; every order still has one of the two.
ALTER TABLE orders ALTER COLUMN checkout_session_id DROP NOT NULL;
ALTER TABLE orders ADD CONSTRAINT orders_paid_through
    CHECK (checkout_session_id IS NOT NULL OR payment_intent_id IS NOT NULL);
