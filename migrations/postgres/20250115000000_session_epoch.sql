-- Every session remembers the epoch its user had at log-in; raising a user's epoch (a new role, a
-- new password) ends all of that user's sessions at their next request.
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
