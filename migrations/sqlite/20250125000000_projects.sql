-- The Projects page's projects: the demo of gating by a plan limit (`entitlements::limit`).
CREATE TABLE projects (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX projects_user ON projects (user_id, id);
