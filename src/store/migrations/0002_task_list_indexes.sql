-- Task lists are read newest update first (last_updated_at DESC, priority DESC). Indexes on
-- (…, last_updated_at, priority), read backwards, give that order without sorting the table,
-- for all tasks and for one agent's. The old (agent_id, status) index goes: tasks_claim
-- (status, agent_id, …) already serves every lookup by status and agent, and each index costs
-- a page write on every task change.
DROP INDEX tasks_agent;
DROP INDEX tasks_updated;
CREATE INDEX tasks_agent ON tasks (agent_id, last_updated_at, priority);
CREATE INDEX tasks_updated ON tasks (last_updated_at, priority);
