// The official e2b SDK (pinned in package.json) against agent-swarm sandboxd: issue 7's "Must
// show" list. Run by tests/sandboxd_sdk_test.cc with E2B_API_URL, E2B_SANDBOX_URL and
// E2B_API_KEY pointing at a sandboxd it started. Prints one "ok <step>" line per check and,
// last, a JSON line {"sandboxes":[ids]} so the caller can look in /proc for leftovers.
// Exits non-zero with the failing step on the first failure.
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, Template, CommandExitError, NotFoundError, FileNotFoundError } from 'e2b';

const created = [];
let step = 'start';
function ok(what) {
  console.log(`ok ${what}`);
}
function check(condition, message) {
  if (!condition) throw new Error(`${step}: ${message}`);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  step = 'create';
  const tag = `sdk-${process.pid}`;
  const sbx = await Sandbox.create('base', {
    envs: { GREETING: 'hello from envs' },
    metadata: { suite: tag, role: 'main' },
    timeoutMs: 120_000,
  });
  created.push(sbx.sandboxId);
  check(/^i[a-z0-9]{20}$/.test(sbx.sandboxId), `bad id ${sbx.sandboxId}`);
  ok('Sandbox.create with envs and metadata');

  step = 'foreground';
  const hi = await sbx.commands.run('echo "$GREETING"; echo to-stderr >&2');
  check(hi.exitCode === 0, `exit code ${hi.exitCode}`);
  check(hi.stdout === 'hello from envs\n', `stdout ${JSON.stringify(hi.stdout)}`);
  check(hi.stderr === 'to-stderr\n', `stderr ${JSON.stringify(hi.stderr)}`);
  try {
    await sbx.commands.run('echo partial; echo bad >&2; exit 3');
    check(false, 'exit 3 did not throw');
  } catch (e) {
    check(e instanceof CommandExitError, `not a CommandExitError: ${e}`);
    check(e.exitCode === 3, `exitCode ${e.exitCode}`);
    check(e.stdout === 'partial\n' && e.stderr === 'bad\n', `output ${e.stdout}|${e.stderr}`);
  }
  ok('foreground command: stdout, stderr, exit code');

  step = 'background';
  const bg = await sbx.commands.run('echo started; sleep 600', {
    background: true,
    timeoutMs: 0,
  });
  check(bg.pid > 0, `pid ${bg.pid}`);
  await bg.disconnect();
  await sleep(300);
  // A second client: the process is still there after the first one went away.
  const again = await Sandbox.connect(sbx.sandboxId);
  const listed = await again.commands.list();
  check(listed.some((p) => p.pid === bg.pid), `pid ${bg.pid} not in ${JSON.stringify(listed)}`);
  ok('background command alive after the client disconnected');
  ok('commands.list');
  const reattached = await again.commands.connect(bg.pid);
  check(reattached.pid === bg.pid, 'commands.connect');
  await reattached.disconnect();

  step = 'files';
  const text = `some bytes ${tag}\nline two\n`;
  await sbx.files.write('/home/user/notes/a.txt', text);
  const back = await sbx.files.read('/home/user/notes/a.txt');
  check(back === text, `read back ${JSON.stringify(back)}`);
  const viaShell = await sbx.commands.run('cat notes/a.txt');
  check(viaShell.stdout === text, 'the file is not where the process sees it');
  ok('files.write then files.read');
  try {
    await sbx.files.read('/home/user/missing.txt');
    check(false, 'reading a missing file did not throw');
  } catch (e) {
    const notFound = e instanceof NotFoundError || e instanceof FileNotFoundError;
    check(notFound, `not the SDK's not-found error: ${e?.constructor?.name}: ${e}`);
  }
  ok('reading a missing file fails with the not-found error');
  check((await sbx.files.exists('/home/user/notes/a.txt')) === true, 'exists');
  check((await sbx.files.exists('/home/user/notes/none')) === false, 'exists for a missing file');
  check((await sbx.files.makeDir('/home/user/notes/sub/deeper')) === true, 'makeDir');
  check((await sbx.files.makeDir('/home/user/notes/sub/deeper')) === false, 'makeDir again');
  const entries = await sbx.files.list('/home/user/notes');
  const names = entries.map((e) => `${e.name}:${e.type}`).sort().join(',');
  check(names === 'a.txt:file,sub:dir', `list gave ${names}`);
  const info = await sbx.files.getInfo('/home/user/notes/a.txt');
  check(info.size === text.length, `getInfo size ${info.size}`);
  await sbx.files.remove('/home/user/notes/sub');
  check((await sbx.files.exists('/home/user/notes/sub')) === false, 'remove');
  ok('files.exists, makeDir, list, getInfo, remove');

  step = 'list';
  const other = await Sandbox.create('base', { metadata: { suite: tag, role: 'other' } });
  created.push(other.sandboxId);
  const paginator = Sandbox.list({ query: { metadata: { suite: tag, role: 'main' } } });
  const found = await paginator.nextItems();
  check(found.length === 1 && found[0].sandboxId === sbx.sandboxId,
        `filter found ${JSON.stringify(found.map((s) => s.sandboxId))}`);
  check(found[0].metadata.role === 'main', 'metadata not listed');
  const both = await Sandbox.list({ query: { metadata: { suite: tag } } }).nextItems();
  check(both.length === 2, `suite filter found ${both.length}`);
  ok('Sandbox.list with a metadata filter');

  step = 'kill';
  check((await Sandbox.kill(sbx.sandboxId)) === true, 'first kill is not true');
  check((await Sandbox.kill(sbx.sandboxId)) === false, 'second kill is not false');
  check((await sbx.isRunning()) === false, 'isRunning after kill');
  check((await Sandbox.kill(other.sandboxId)) === true, 'kill of the second sandbox');
  ok('kill: true, then false for a gone sandbox');

  step = 'timeout';
  const short = await Sandbox.create('base', { timeoutMs: 2_000 });
  created.push(short.sandboxId);
  await short.commands.run('sleep 600', { background: true, timeoutMs: 0 });
  await sleep(3_500);
  check((await short.isRunning()) === false, 'still running past its timeout');
  check((await Sandbox.kill(short.sandboxId)) === false, 'kill found it after its timeout');
  ok('a sandbox past its timeout is killed by sandboxd');

  step = 'template';
  const context = mkdtempSync(join(tmpdir(), 'sdk-tpl-'));
  try {
    writeFileSync(join(context, 'entry.sh'), '#!/bin/sh\necho "entry $TPL_VAR in $(pwd)"\n');
    const template = Template({ fileContextPath: context })
      .fromImage('debian:12')
      .copy('entry.sh', '/docker-entrypoint.sh', { mode: 0o755 })
      .setEnvs({ TPL_VAR: 'from-template' })
      .setWorkdir('/app');
    const logs = [];
    const built = await Template.build(template, `sdk-tpl-${process.pid}`, {
      cpuCount: 1,
      memoryMB: 512,
      onBuildLogs: (entry) => logs.push(entry.message),
    });
    check(logs.some((m) => m.includes("host's root")), `build log: ${logs.join(' | ')}`);
    const fromTemplate = await Sandbox.create(`sdk-tpl-${process.pid}`);
    created.push(fromTemplate.sandboxId);
    const entry = await fromTemplate.commands.run('/docker-entrypoint.sh');
    check(entry.stdout === 'entry from-template in /app\n', `entrypoint said ${entry.stdout}`);
    check((await Sandbox.kill(fromTemplate.sandboxId)) === true, 'kill of the template sandbox');
    const api = process.env.E2B_API_URL;
    const headers = { 'X-API-Key': process.env.E2B_API_KEY, 'Content-Type': 'application/json' };
    for (const isPublic of [true, false]) {
      const res = await fetch(`${api}/v2/templates/${built.templateId}`, {
        method: 'PATCH', headers, body: JSON.stringify({ public: isPublic }),
      });
      check(res.status === 200, `publish ${isPublic}: ${res.status}`);
    }
    const del = await fetch(`${api}/templates/${built.templateId}`, { method: 'DELETE', headers });
    check(del.status === 204, `delete: ${del.status}`);
    try {
      await Sandbox.create(`sdk-tpl-${process.pid}`);
      check(false, 'a deleted template still makes sandboxes');
    } catch (e) {
      check(!String(e).includes('a deleted template'), String(e));
    }
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  ok('Template.build with a copied file; its sandbox runs it; publish, unpublish, delete');
}

try {
  await main();
  console.log(JSON.stringify({ sandboxes: created }));
} catch (e) {
  console.log(JSON.stringify({ sandboxes: created }));
  console.error(`FAILED at ${step}: ${e?.stack ?? e}`);
  process.exit(1);
}
