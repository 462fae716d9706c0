// agent-swarm's MCP client for pi, which has no MCP of its own. The worker writes this file
// into the task's pi agent dir (extensions/), built into the binary from here. It speaks the
// Streamable HTTP transport to the swarm's MCP server and registers every tool the server lists
// as a pi tool of the same name. Dependency-free: pi loads it with jiti, on Node 20's fetch.
//
// Everything comes from the environment the worker gives pi: SWARM_MCP_URL, SWARM_MCP_TOKEN (a
// secret: it is only ever sent as the bearer), SWARM_AGENT_ID, SWARM_TASK_ID. The factory is
// async, so pi waits for the tools before the first model call. A server that cannot be reached
// must not stop pi (the worker's final-text judgement is the safety net): the failure is caught
// and reported on stderr. The worker reads these stderr lines:
//   [agent-swarm mcp] connected: <tool> <tool> ...
//   [agent-swarm mcp] not connected: <reason>

const MARK = "[agent-swarm mcp]";
const PROTOCOL_VERSION = "2025-06-18";
const CONNECT_TIMEOUT_MS = 20_000;
const CALL_TIMEOUT_MS = 60_000;
const CLOSE_TIMEOUT_MS = 3_000;
const MAX_REPLY_CHARS = 4 * 1024 * 1024;
const MAX_TOOL_PAGES = 10;

type Json = any;

function env(name: string): string {
  return process.env[name] ?? "";
}

function say(line: string): void {
  process.stderr.write(`${MARK} ${line}\n`);
}

class McpClient {
  private sessionId = "";
  private protocolVersion = PROTOCOL_VERSION;
  private nextId = 1;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly agentId: string,
    private readonly taskId: string,
  ) {}

  private headers(): Record<string, string> {
    const h: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": this.protocolVersion,
    };
    if (this.token) h.authorization = `Bearer ${this.token}`;
    if (this.agentId) h["x-agent-id"] = this.agentId;
    if (this.taskId) h["x-source-task-id"] = this.taskId;
    if (this.sessionId) h["mcp-session-id"] = this.sessionId;
    return h;
  }

  private signal(timeoutMs: number, outer?: AbortSignal): AbortSignal {
    const timeout = AbortSignal.timeout(timeoutMs);
    const any = (AbortSignal as Json).any;
    return outer && typeof any === "function" ? any([timeout, outer]) : timeout;
  }

  // One JSON-RPC message out; for a request, its result back (from a JSON or an SSE reply).
  private async send(message: Json, timeoutMs: number, outer?: AbortSignal): Promise<Json> {
    const response = await fetch(this.url, {
      method: "POST",
      headers: this.headers(),
      body: JSON.stringify(message),
      signal: this.signal(timeoutMs, outer),
    });
    const session = response.headers.get("mcp-session-id");
    if (session) this.sessionId = session;
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`HTTP ${response.status} from ${this.url}: ${text.slice(0, 500)}`);
    }
    if (message.id === undefined) return undefined;  // a notification: 202, no body
    if (text.length > MAX_REPLY_CHARS) throw new Error(`reply over ${MAX_REPLY_CHARS} characters`);
    const type = response.headers.get("content-type") ?? "";
    const reply = type.includes("text/event-stream")
      ? McpClient.fromSse(text, message.id)
      : JSON.parse(text);
    if (!reply || typeof reply !== "object") throw new Error("the server's reply is not an object");
    if (reply.error) {
      throw new Error(`MCP error ${reply.error.code}: ${reply.error.message ?? "no message"}`);
    }
    return reply.result;
  }

  // The SSE event whose data is the response to request `id` (events are separated by blank
  // lines; an event's data is its data: lines joined).
  private static fromSse(text: string, id: number): Json {
    for (const event of text.split(/\r?\n\r?\n/)) {
      const data = event
        .split(/\r?\n/)
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (!data) continue;
      try {
        const message = JSON.parse(data);
        if (message && message.id === id) return message;
      } catch {
        // Not JSON: not ours.
      }
    }
    throw new Error("the server's event stream held no response");
  }

  private request(method: string, params: Json, timeoutMs: number, outer?: AbortSignal) {
    return this.send({ jsonrpc: "2.0", id: this.nextId++, method, params }, timeoutMs, outer);
  }

  async connect(): Promise<Json[]> {
    const init = await this.request(
      "initialize",
      {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: "agent-swarm-pi-extension", version: "1" },
      },
      CONNECT_TIMEOUT_MS,
    );
    if (init && typeof init.protocolVersion === "string") {
      this.protocolVersion = init.protocolVersion;
    }
    await this.send(
      { jsonrpc: "2.0", method: "notifications/initialized" },
      CONNECT_TIMEOUT_MS,
    );
    const tools: Json[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const list = await this.request(
        "tools/list",
        cursor ? { cursor } : {},
        CONNECT_TIMEOUT_MS,
      );
      for (const tool of list?.tools ?? []) {
        if (tool && typeof tool.name === "string") tools.push(tool);
      }
      cursor = typeof list?.nextCursor === "string" ? list.nextCursor : undefined;
      if (!cursor) break;
    }
    return tools;
  }

  call(name: string, args: Json, outer?: AbortSignal): Promise<Json> {
    return this.request("tools/call", { name, arguments: args ?? {} }, CALL_TIMEOUT_MS, outer);
  }

  async close(): Promise<void> {
    if (!this.sessionId) return;
    try {
      await fetch(this.url, {
        method: "DELETE",
        headers: this.headers(),
        signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS),
      });
    } catch {
      // The session expires on the server anyway.
    }
    this.sessionId = "";
  }
}

// A tool result as text for the model: its text items, else its structured content.
function render(result: Json): string {
  const parts: string[] = [];
  for (const item of result?.content ?? []) {
    parts.push(item?.type === "text" ? String(item.text ?? "") : JSON.stringify(item));
  }
  if (parts.length === 0 && result?.structuredContent !== undefined) {
    parts.push(JSON.stringify(result.structuredContent));
  }
  return parts.join("\n");
}

export default async function agentSwarmMcp(pi: Json): Promise<void> {
  const url = env("SWARM_MCP_URL");
  if (!url) {
    say("not connected: SWARM_MCP_URL is not set");
    return;
  }
  const client = new McpClient(url, env("SWARM_MCP_TOKEN"), env("SWARM_AGENT_ID"), env("SWARM_TASK_ID"));
  let tools: Json[];
  try {
    tools = await client.connect();
  } catch (error) {
    say(`not connected: ${error instanceof Error ? error.message : String(error)}`);
    await client.close();
    return;
  }
  for (const tool of tools) {
    pi.registerTool({
      name: tool.name,
      label: tool.title ?? tool.name,
      description: tool.description ?? `${tool.name} (agent-swarm)`,
      // An MCP inputSchema is a JSON Schema object, which pi takes as is.
      parameters: tool.inputSchema ?? { type: "object", properties: {} },
      async execute(_toolCallId: string, params: Json, signal?: AbortSignal) {
        const result = await client.call(tool.name, params, signal);
        const text = render(result);
        // Thrown, the text reaches the model as a tool error (isError), as MCP meant it.
        if (result?.isError) throw new Error(text || `${tool.name} failed`);
        return {
          content: [{ type: "text", text }],
          details: { structuredContent: result?.structuredContent ?? null },
        };
      },
    });
  }
  pi.on("session_shutdown", async () => {
    await client.close();
  });
  say(`connected: ${tools.map((tool) => tool.name).join(" ")}`);
}
