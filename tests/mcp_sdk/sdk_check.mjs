// The official MCP TypeScript SDK client against agent-swarm's /mcp, as a harness CLI would use
// it: Streamable HTTP with the swarm's headers. Prints "ok <step>" per step; any failure
// throws and exits non-zero. tests/api_mcp_sdk_test.cc starts the API, makes a task claimed
// by AGENT_ID with the seed's outputSchema, runs this, then checks the task in the store.
//
// Env: MCP_URL, API_KEY, AGENT_ID (registered), OTHER_AGENT_ID (registered), TASK_ID.
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const { MCP_URL, API_KEY, AGENT_ID, OTHER_AGENT_ID, TASK_ID } = process.env;
for (const [name, value] of Object.entries({ MCP_URL, API_KEY, AGENT_ID, OTHER_AGENT_ID, TASK_ID })) {
  assert.ok(value, `${name} must be set`);
}

function transport(headers, sessionId) {
  return new StreamableHTTPClientTransport(new URL(MCP_URL), {
    requestInit: { headers },
    sessionId,
  });
}

function swarmHeaders(agent, key = API_KEY) {
  const headers = { 'X-Agent-ID': agent, 'X-Source-Task-Id': TASK_ID };
  if (key) headers.Authorization = `Bearer ${key}`;
  return headers;
}

function newClient() {
  return new Client({ name: 'agent-swarm-sdk-check', version: '1.0.0' });
}

function ok(step) {
  console.log(`ok ${step}`);
}

async function refused(step, action) {
  let error;
  try {
    await action();
  } catch (e) {
    error = e;
  }
  assert.ok(error, `${step}: expected a refusal, got success`);
  // The SDK's StreamableHTTPError carries the HTTP status as `code`.
  assert.equal(error?.code, 401, `${step}: ${error}`);
  ok(step);
}

const text = (result) => result.content.find((c) => c.type === 'text')?.text ?? '';

const client = newClient();
const main = transport(swarmHeaders(AGENT_ID));
await client.connect(main);
assert.ok(main.sessionId, 'the server gave no Mcp-Session-Id');
assert.equal(client.getServerVersion()?.name, 'agent-swarm');
ok('connect over Streamable HTTP');

const { tools } = await client.listTools();
const names = tools.map((t) => t.name);
for (const name of ['store-progress', 'get-task-details', 'get-tasks', 'send-task', 'cancel-task',
  'my-agent-info', 'get-swarm']) {
  assert.ok(names.includes(name), `tools/list lacks ${name}: ${names}`);
}
const storeProgress = tools.find((t) => t.name === 'store-progress');
assert.equal(storeProgress.inputSchema.type, 'object');
assert.ok(storeProgress.inputSchema.properties.taskId, 'store-progress has no taskId input');
ok('listTools');

const mismatch = await client.callTool({
  name: 'store-progress',
  arguments: { taskId: TASK_ID, status: 'completed', output: '{"reply":"ping"}' },
});
assert.equal(mismatch.isError, true, JSON.stringify(mismatch));
assert.ok(text(mismatch).startsWith("Error: output does not match the task's outputSchema: "),
  text(mismatch));
assert.equal(mismatch.structuredContent?.status, 'in_progress');
ok('store-progress with a mismatching output is a tool error');

const pending = await client.callTool({ name: 'get-task-details', arguments: { taskId: TASK_ID } });
assert.equal(pending.isError, false, JSON.stringify(pending));
assert.equal(pending.structuredContent.task.status, 'in_progress');
assert.equal(pending.structuredContent.task.output, null);
ok('get-task-details: the task stays in_progress');

const done = await client.callTool({
  name: 'store-progress',
  arguments: { taskId: TASK_ID, status: 'completed', output: { reply: 'pong' } },
});
assert.equal(done.isError, false, JSON.stringify(done));
assert.equal(done.structuredContent.task.status, 'completed');
ok('store-progress with the matching output completes the task');

const details = await client.callTool({ name: 'get-task-details', arguments: { taskId: TASK_ID } });
const task = details.structuredContent.task;
assert.equal(task.status, 'completed');
assert.equal(task.output, '{"reply":"pong"}');
const change = task.logs.find((l) => l.eventType === 'task_status_change' && l.newValue === 'completed');
assert.equal(change?.metadata, '{"via":"mcp"}', JSON.stringify(task.logs));
ok('get-task-details shows the result came via mcp');

await refused('unauthenticated client refused', () =>
  newClient().connect(transport(swarmHeaders(AGENT_ID, ''))));
await refused('wrong key refused', () =>
  newClient().connect(transport(swarmHeaders(AGENT_ID, 'not-the-key'))));
await refused('unregistered agent refused', () =>
  newClient().connect(transport(swarmHeaders('agent-nobody-registered'))));

// Another agent takes the first one's session id: the client skips initialize for a
// transport that already has a session, so its first request uses the session as is.
const intruder = newClient();
await intruder.connect(transport(swarmHeaders(OTHER_AGENT_ID), main.sessionId));
await refused("another agent using the session refused", () => intruder.listTools());
await refused("another agent calling a tool on the session refused", () =>
  intruder.callTool({ name: 'get-swarm', arguments: {} }));
// The session is still its owner's.
await client.ping();
ok('the owner keeps its session');

await main.terminateSession();
await client.close();
ok('session terminated');
