-- Upstream's worker runs against this API (issue 9): tasks can be superseded (handed back with a
-- "resume" child) or paused, agents can wait for credentials, and a worker's running sessions
-- are kept as active sessions. The status CHECKs of agents and tasks are widened the portable
-- way: each table is rebuilt under its own name, rows and indexes included.

CREATE TABLE agents_new (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  is_lead INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'idle'
    CHECK (status IN ('idle', 'busy', 'offline', 'waiting_for_credentials')),
  description TEXT,
  role TEXT,
  capabilities TEXT NOT NULL DEFAULT '[]',
  max_tasks INTEGER NOT NULL DEFAULT 1,
  provider TEXT,
  harness_provider TEXT,
  last_activity_at TEXT,
  created_at TEXT NOT NULL,
  last_updated_at TEXT NOT NULL,
  runtime_instance_id TEXT,
  version TEXT,
  cli_version TEXT,
  -- The worker's credential report: a JSON array of variable names, its snapshot (a JSON
  -- object) and the model telemetry it reported (a JSON object).
  credential_missing TEXT,
  cred_status TEXT,
  latest_model TEXT
);
INSERT INTO agents_new (id, name, is_lead, status, description, role, capabilities, max_tasks,
                        provider, harness_provider, last_activity_at, created_at,
                        last_updated_at, runtime_instance_id, version, cli_version)
  SELECT id, name, is_lead, status, description, role, capabilities, max_tasks, provider,
         harness_provider, last_activity_at, created_at, last_updated_at, runtime_instance_id,
         version, cli_version
  FROM agents;
DROP TABLE agents;
ALTER TABLE agents_new RENAME TO agents;

CREATE TABLE tasks_new (
  id TEXT PRIMARY KEY,
  agent_id TEXT,
  creator_agent_id TEXT,
  task TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN
    ('unassigned', 'pending', 'in_progress', 'completed', 'failed', 'cancelled', 'superseded',
     'paused')),
  source TEXT NOT NULL DEFAULT 'api',
  task_type TEXT,
  tags TEXT NOT NULL DEFAULT '[]',
  priority INTEGER NOT NULL DEFAULT 50,
  output_schema TEXT,
  output TEXT,
  failure_reason TEXT,
  progress TEXT,
  session_id TEXT,
  provider TEXT,
  model TEXT,
  created_at TEXT NOT NULL,
  last_updated_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  parent_task_id TEXT
);
INSERT INTO tasks_new (id, agent_id, creator_agent_id, task, status, source, task_type, tags,
                       priority, output_schema, output, failure_reason, progress, session_id,
                       provider, model, created_at, last_updated_at, started_at, finished_at)
  SELECT id, agent_id, creator_agent_id, task, status, source, task_type, tags, priority,
         output_schema, output, failure_reason, progress, session_id, provider, model,
         created_at, last_updated_at, started_at, finished_at
  FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_new RENAME TO tasks;
CREATE INDEX tasks_claim ON tasks (status, agent_id, priority DESC, created_at);
CREATE INDEX tasks_agent ON tasks (agent_id, last_updated_at, priority);
CREATE INDEX tasks_updated ON tasks (last_updated_at, priority);
CREATE INDEX tasks_parent ON tasks (parent_task_id);

-- A harness session a worker runs for a task (upstream's active_sessions). Its heartbeat counts
-- as the agent's liveness; the dead-worker sweep supersedes a lost worker's tasks that have one.
CREATE TABLE active_sessions (
  id TEXT PRIMARY KEY,
  agent_id TEXT NOT NULL,
  task_id TEXT,
  trigger_type TEXT NOT NULL,
  task_description TEXT,
  runner_session_id TEXT,
  started_at TEXT NOT NULL,
  last_heartbeat_at TEXT NOT NULL
);
CREATE INDEX active_sessions_agent ON active_sessions (agent_id);
CREATE INDEX active_sessions_task ON active_sessions (task_id);
