-- wrk script for GET /api/tasks/{id}: the key comes from the environment, never from argv.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("AGENT_SWARM_API_KEY")
