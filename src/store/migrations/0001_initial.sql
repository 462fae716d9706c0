-- The first schema. Portable SQL: TEXT ids and ISO-8601 timestamps, JSON kept as TEXT,
-- INTEGER/REAL numbers, no engine-specific types, so the PostgreSQL store runs it as is.

CREATE TABLE agents (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  is_lead INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'idle' CHECK (status IN ('idle', 'busy', 'offline')),
  description TEXT,
  role TEXT,
  capabilities TEXT NOT NULL DEFAULT '[]',
  max_tasks INTEGER NOT NULL DEFAULT 1,
  provider TEXT,
  harness_provider TEXT,
  last_activity_at TEXT,
  created_at TEXT NOT NULL,
  last_updated_at TEXT NOT NULL
);

CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  agent_id TEXT,
  creator_agent_id TEXT,
  task TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN
    ('unassigned', 'pending', 'in_progress', 'completed', 'failed', 'cancelled')),
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
  finished_at TEXT
);
-- The claim query: an agent's pending tasks and the unassigned pool, best first.
CREATE INDEX tasks_claim ON tasks (status, agent_id, priority DESC, created_at);
CREATE INDEX tasks_agent ON tasks (agent_id, status);
CREATE INDEX tasks_updated ON tasks (last_updated_at DESC);

CREATE TABLE agent_logs (
  id TEXT PRIMARY KEY,
  event_type TEXT NOT NULL,
  agent_id TEXT,
  task_id TEXT,
  old_value TEXT,
  new_value TEXT,
  metadata TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX agent_logs_task ON agent_logs (task_id, created_at);

CREATE TABLE session_logs (
  id TEXT PRIMARY KEY,
  task_id TEXT,
  session_id TEXT NOT NULL,
  iteration INTEGER NOT NULL,
  cli TEXT NOT NULL,
  content TEXT NOT NULL,
  line_number INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX session_logs_task ON session_logs (task_id, session_id, line_number);

CREATE TABLE session_costs (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  task_id TEXT,
  agent_id TEXT NOT NULL,
  total_cost_usd REAL NOT NULL,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens INTEGER NOT NULL DEFAULT 0,
  cache_write_tokens INTEGER NOT NULL DEFAULT 0,
  reasoning_output_tokens INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER,
  num_turns INTEGER,
  model TEXT,
  provider TEXT,
  is_error INTEGER NOT NULL DEFAULT 0,
  cost_source TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX session_costs_task ON session_costs (task_id);
CREATE INDEX session_costs_agent ON session_costs (agent_id);
