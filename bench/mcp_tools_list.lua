-- wrk script for POST /mcp tools/list on an open session: the key and the session come from
-- the environment, never from argv.
wrk.method = "POST"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
wrk.headers["Authorization"] = "Bearer " .. os.getenv("AGENT_SWARM_API_KEY")
wrk.headers["X-Agent-ID"] = os.getenv("MCP_BENCH_AGENT")
wrk.headers["Mcp-Session-Id"] = os.getenv("MCP_BENCH_SESSION")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
