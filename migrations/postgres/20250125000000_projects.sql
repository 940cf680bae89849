-- The Projects page's projects: the demo of gating by a plan limit (`entitlements::limit`).
CREATE TABLE projects (
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX projects_user ON projects (user_id, id);
