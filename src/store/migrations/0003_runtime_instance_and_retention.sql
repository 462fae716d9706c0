-- A worker process registers with a fresh runtime instance id (upstream's runtimeInstanceId).
-- A registration under the same agent id with a different instance is a restarted worker:
-- the tasks the previous process held can never finish and are failed at once.
ALTER TABLE agents ADD COLUMN runtime_instance_id TEXT;
-- Retention prunes logs by age; these keep the prune from scanning whole tables.
CREATE INDEX agent_logs_created ON agent_logs (created_at);
CREATE INDEX session_logs_created ON session_logs (created_at);
