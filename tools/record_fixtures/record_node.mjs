// Drive posthog-node against the loopback sink of record.py.
//
//   node record_node.mjs <sink url> <calls.json to write> <api key>
//
// record.py copies this file next to a temporary `npm install` of posthog-node and runs it;
// every scenario uses its own client object and is flushed explicitly, so each is one request.
import { writeFileSync } from 'node:fs'
import { PostHog } from 'posthog-node'

const [sinkUrl, callsPath, apiKey] = process.argv.slice(2)
const LARGE_BATCH = 200
const calls = []

async function scenario(name, failNext = 0) {
  const response = await fetch(`${sinkUrl}/__recorder__/scenario`, {
    method: 'POST',
    body: JSON.stringify({ client: 'node', scenario: name, fail_next: failNext }),
  })
  await response.text()
}

async function run(name, options, makeCalls, { failNext = 0, captureMode = 'v0' } = {}) {
  await scenario(name, failNext)
  process.env.POSTHOG_CAPTURE_MODE = captureMode // read when the client is constructed
  const client = new PostHog(apiKey, {
    host: sinkUrl,
    flushAt: 1000,
    maxBatchSize: 1000,
    maxQueueSize: 5000,
    flushInterval: 60000,
    fetchRetryCount: 3,
    fetchRetryDelay: 300,
    ...options,
  })
  delete process.env.POSTHOG_CAPTURE_MODE
  const call = (method, arg) => {
    client[method](arg)
    calls.push({ scenario: name, method, args: [arg], kwargs: {}, uuid: arg.uuid ?? null })
  }
  makeCalls(call)
  await client.flush()
  await client.shutdown()
}

function identityCalls(call) {
  call('identify', {
    distinctId: 'node-user-1',
    properties: {
      $set: { email: 'ada@example.com', name: 'Ada' },
      $set_once: { first_plan: 'free' },
      $anon_distinct_id: 'node-anon-1',
    },
  })
  call('capture', {
    distinctId: 'node-user-1',
    event: '$pageview',
    properties: { $current_url: 'https://example.com/pricing', $set: { plan: 'pro' } },
    groups: { company: 'acme', team: 42 },
  })
  call('capture', {
    distinctId: 12345,
    event: 'order placed',
    properties: { amount: 12.5, note: 'caf\u00e9 \u{1F994}', nested: { a: [1] } },
    groups: { company: 'acme' },
  })
  call('groupIdentify', {
    groupType: 'company',
    groupKey: 'acme',
    properties: { name: 'Acme Inc', employees: 50 },
    distinctId: 'node-user-1',
  })
  call('groupIdentify', { groupType: 'team', groupKey: 42, properties: { name: 'Platform' } })
  call('alias', { distinctId: 'node-user-1', alias: 'node-anon-1' })
}

function largeCalls(call) {
  for (let n = 0; n < LARGE_BATCH; n++) {
    call('capture', {
      distinctId: `node-bulk-${n % 17}`,
      event: 'bulk event',
      properties: n % 50 === 0 ? { n, path: `/page/${n % 9}`, $set: { last_n: n } } : { n },
      groups: { company: `c-${n % 5}` },
    })
  }
}

function retryCalls(call) {
  for (let n = 0; n < 3; n++) {
    call('capture', {
      distinctId: 'node-user-2',
      event: 'retried event',
      properties: { n },
      groups: { company: 'acme' },
    })
  }
}

function v1Calls(call) {
  call('identify', { distinctId: 'node-user-3', properties: { $set: { email: 'v1@example.com' } } })
  call('capture', {
    distinctId: 'node-user-3',
    event: 'v1 event',
    properties: { k: 'v' },
    groups: { company: 'acme' },
  })
  call('groupIdentify', {
    groupType: 'company',
    groupKey: 'acme',
    properties: { plan: 'enterprise' },
    distinctId: 'node-user-3',
  })
  call('alias', { distinctId: 'node-user-3', alias: 'node-anon-3' })
}

await run('plain', { disableCompression: true }, identityCalls)
await run('gzip', {}, identityCalls)
await run('large', {}, largeCalls)
await run('retry', {}, retryCalls, { failNext: 1 })
await run('v1', { disableCompression: true }, v1Calls, { captureMode: 'v1' })
writeFileSync(callsPath, JSON.stringify(calls, null, 1) + '\n')
