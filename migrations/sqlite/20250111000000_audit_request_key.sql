-- The form token of the admin request an audit row records (a plan change, a refund…): unique,
-- so a form submitted twice writes one row and the second submit can tell it was already done.
-- NULL for rows without one (NULLs never collide in a unique index).
ALTER TABLE audit_log ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX audit_log_request_key ON audit_log (request_key);
