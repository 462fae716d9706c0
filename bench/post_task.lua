-- wrk script for POST /api/tasks: a small pool task per request; the key comes from the
-- environment, never from argv.
wrk.method = "POST"
wrk.body = '{"task":"Reply with exactly: pong","source":"bench","priority":50}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("AGENT_SWARM_API_KEY")
