-- Provider smoke runs (issue 8) outlive the request that started them: the CLI follows a run
-- by id, GET /api/smoke-runs lists them, and an API restarted mid-run must find the runs it
-- left unfinished to mark them interrupted. The request is stored redacted (never the swarm
-- key nor a secret value) and the per-provider results as one JSON array, rewritten whole on
-- every update: a run has at most four providers, so no table of its own is worth it.
CREATE TABLE smoke_runs (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('running', 'passed', 'failed', 'interrupted')),
  ok INTEGER NOT NULL DEFAULT 0,
  request_json TEXT NOT NULL,
  results_json TEXT NOT NULL DEFAULT '[]',
  api_version TEXT NOT NULL,
  owner TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  finished_at TEXT
);
-- GET /api/smoke-runs lists newest first (ties by insertion: the index ends with the rowid).
CREATE INDEX smoke_runs_created ON smoke_runs (created_at);
-- Runs are kept; the sweep looks at the unfinished ones only.
CREATE INDEX smoke_runs_status ON smoke_runs (status);
-- The smoke runner checks a worker's build version against the API's (the seed's version
-- alignment); the worker reports it, and its CLI's version, when it registers.
ALTER TABLE agents ADD COLUMN version TEXT;
ALTER TABLE agents ADD COLUMN cli_version TEXT;
