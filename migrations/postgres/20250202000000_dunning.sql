-- An email's HTML alternative (rendered from templates/mail); NULL for text-only mail.
ALTER TABLE emails ADD COLUMN html_body TEXT;
