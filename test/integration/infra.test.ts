/**
 * The deployable system (issue 4, "Infrastructure" and "Bundles"): builds the bundles
 * (scripts/bundle.mjs) and runs `osls package --stage dev` exactly as `npm run package` does,
 * offline — no AWS credentials (empty HOME, no AWS_* variables) and every outbound connection
 * refused and recorded by a preloaded guard — then asserts on the generated CloudFormation
 * template and the function zips.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUDGET_BYTES = 1_100_000;
/** serverless.yml function key → handler file name (functions/<name>.ts, dist/functions/<name>.zip). */
const FUNCTIONS = {
  HttpGetKlines: 'http-get-klines', HttpGetCoverage: 'http-get-coverage', HttpGetDatasets: 'http-get-datasets', CronRefresh: 'cron-refresh',
  SqsRefreshDataset: 'sqs-refresh-dataset', InvokeGetKlines: 'invoke-get-klines',
} as const;

// Preloaded into osls: any connection or DNS lookup to a non-loopback host is refused and logged.
const NETWORK_GUARD = `
const net = require('node:net'), dns = require('node:dns'), fs = require('node:fs');
const log = (what) => fs.appendFileSync(process.env.NETWORK_GUARD_LOG, what + '\\n');
const loopback = (host) => !host || host === 'localhost' || host === '::1' || /^127\\./.test(host);
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const o = typeof args[0] === 'object' && args[0] !== null ? (Array.isArray(args[0]) ? args[0][0] : args[0]) : { host: args[1], port: args[0] };
  if (!o.path && !loopback(o.host)) { log('connect ' + o.host + ':' + o.port); throw new Error('network guard: ' + o.host); }
  return connect.apply(this, args);
};
const lookup = dns.lookup;
dns.lookup = function (host, ...rest) { if (!loopback(host)) { log('lookup ' + host); } return lookup.call(this, host, ...rest); };
`;

type Json = Record<string, any>;
let template: { Resources: Record<string, { Type: string; Properties: Json; DependsOn?: unknown }> };
let networkAttempts: string;

/** Intrinsics as text: {Ref: X} → `${X}`, {Fn::GetAtt: [X, Arn]} → `${X.Arn}`, Fn::Join joined. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if (v.Ref) return `\${${v.Ref}}`;
  if (v['Fn::GetAtt']) return `\${${(v['Fn::GetAtt'] as string[]).join('.')}}`;
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(render).join(v['Fn::Join'][0]);
  return JSON.stringify(value);
}
const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const resourcesOf = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const resource = (id: string) => {
  const found = template.Resources[id];
  if (!found) throw new Error(`no resource ${id} in the template`);
  return found;
};

/** `*`, or an ARN naming every bucket, table or queue (`arn:aws:s3:::*`, `arn:aws:dynamodb:*:*:table/*`, …). */
function isWildcardResource(target: string): boolean {
  const name = /^arn:[^:]*:(?:s3|dynamodb|sqs):[^:]*:[^:]*:(.*)$/.exec(target)?.[1];
  return target === '*' || (name !== undefined && /^(?:table\/)?\*/.test(name));
}

/** Every Allow statement of a role as `{ actions, resources }` with intrinsics rendered. */
function roleStatements(roleId: string): { actions: string[]; resources: string[] }[] {
  const role = resource(roleId);
  return (role.Properties.Policies as Json[]).flatMap((policy) => list(policy.PolicyDocument.Statement as Json[]))
    .filter((statement) => statement.Effect === 'Allow')
    .map((statement) => ({ actions: list<string>(statement.Action), resources: list<unknown>(statement.Resource).map(render) }));
}
/** `action → sorted resources` of a role, logs excluded. */
function dataGrants(roleId: string): Record<string, string[]> {
  const grants: Record<string, string[]> = {};
  for (const { actions, resources } of roleStatements(roleId)) {
    for (const action of actions.filter((a) => !a.startsWith('logs:'))) grants[action] = [...(grants[action] ?? []), ...resources].sort();
  }
  return grants;
}

beforeAll(async () => {
  const scratch = await mkdtemp(path.join(tmpdir(), 'klines-infra-'));
  try {
    const guard = path.join(scratch, 'network-guard.cjs');
    const guardLog = path.join(scratch, 'network.log');
    await writeFile(guard, NETWORK_GUARD);
    await writeFile(guardLog, '');
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
    Object.assign(env, { HOME: scratch, AWS_EC2_METADATA_DISABLED: 'true', NETWORK_GUARD_LOG: guardLog });
    // A bundle over budget still writes every zip (and fails its own test below); anything else is fatal.
    await run(process.execPath, ['scripts/bundle.mjs'], { cwd: REPO_ROOT, env }).catch((error: { stderr?: string }) => {
      if (!String(error.stderr).includes('over the')) throw error;
    });
    await run(process.execPath, ['--require', guard, 'node_modules/osls/bin/serverless.js', 'package', '--stage', 'dev'], { cwd: REPO_ROOT, env });
    networkAttempts = await readFile(guardLog, 'utf8');
    template = JSON.parse(await readFile(path.join(REPO_ROOT, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}, 300_000);

describe('npm run package (offline)', () => {
  it('packages without credentials and without a single outbound connection or lookup', () => {
    expect(networkAttempts).toBe('');
    expect(Object.keys(template.Resources).length).toBeGreaterThan(20);
  });

  it('ships each function as its own prebuilt zip, an ESM bundle within the 1.1 MB budget that exports handler', async () => {
    const functions = resourcesOf('AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual(Object.keys(FUNCTIONS).map((key) => `${key}LambdaFunction`).sort());
    for (const [key, name] of Object.entries(FUNCTIONS)) {
      const fn = resource(`${key}LambdaFunction`).Properties;
      expect(fn.Runtime).toBe('nodejs24.x');
      expect(fn.Handler).toBe('index.handler');
      expect(fn.Code.S3Key).toMatch(new RegExp(`/${name}\\.zip$`));
      const files = unzipSync(await readFile(path.join(REPO_ROOT, 'dist', 'functions', `${name}.zip`)));
      const names = Object.keys(files);
      expect(names).toContain('index.mjs');
      expect(names).toContain('index.mjs.map');
      // Everything else is a chunk of code loaded on demand (scripts/bundle.mjs), each with its map.
      for (const other of names.filter((file) => !file.startsWith('index.mjs'))) expect(other).toMatch(/^chunks\/[\w-]+\.mjs(\.map)?$/);
      const codeBytes = names.filter((file) => file.endsWith('.mjs')).reduce((sum, file) => sum + files[file]!.byteLength, 0);
      expect(codeBytes).toBeLessThanOrEqual(BUDGET_BYTES);
      const code = Buffer.from(files['index.mjs']!).toString('utf8');
      // Every chunk the handler imports (statically or on demand) ships in its zip.
      for (const [, chunk] of code.matchAll(/["']\.\/(chunks\/[\w-]+\.mjs)["']/g)) expect(names).toContain(chunk);
      expect(code).toMatch(/export\s*\{[^}]*\bas handler\b|export\s*\{[^}]*\bhandler\b/);
      expect(code).toContain('//# sourceMappingURL=index.mjs.map');
    }
  });
});

describe('IAM', () => {
  it('gives every function its own role and creates no shared or managed-policy role', () => {
    const roles = Object.keys(FUNCTIONS).map((key) => render(resource(`${key}LambdaFunction`).Properties.Role));
    expect(new Set(roles).size).toBe(roles.length);
    for (const role of roles) expect(resource(role.replace(/^\$\{(.+)\.Arn\}$/, '$1')).Type).toBe('AWS::IAM::Role');
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
    for (const [, role] of resourcesOf('AWS::IAM::Role')) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('never grants a data action (s3, dynamodb, sqs) on *, nor a service wildcard action', () => {
    const statements = Object.entries(template.Resources).flatMap(([id, r]) => [
      ...list<Json>(r.Properties?.Policies).flatMap((p) => list<Json>(p.PolicyDocument?.Statement)),
      ...list<Json>(r.Properties?.PolicyDocument?.Statement),
    ].map((statement) => ({ id, statement })));
    const data = statements.filter(({ statement }) => list<string>(statement.Action).some((a) => /^(s3|dynamodb|sqs):/.test(a)));
    expect(data.length).toBeGreaterThan(10);
    for (const { id, statement } of data) {
      for (const target of list<unknown>(statement.Resource).map(render)) {
        expect(isWildcardResource(target), `${id} ${JSON.stringify(statement.Action)} on ${target}`).toBe(false);
      }
      if (statement.Effect === 'Allow') expect(list<string>(statement.Action).filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
    }
  });

  it('scopes each role to exactly what its handler does', () => {
    const cacheObjects = '${CacheBucket.Arn}/cache/*';
    const results = '${CacheBucket.Arn}/results/*';
    const table = ['${KlinesTable.Arn}'];
    const readWriteCache = {
      's3:GetObject': [cacheObjects], 's3:PutObject': [cacheObjects], 's3:DeleteObject': [cacheObjects], 's3:ListBucket': ['${CacheBucket.Arn}'],
      'dynamodb:Query': table, 'dynamodb:PutItem': table, 'dynamodb:UpdateItem': table, 'dynamodb:DeleteItem': table,
    };
    // GET /klines and invoke hand a fill they cannot finish before their deadline to the refresh queue (issue 11).
    const withResults = {
      ...readWriteCache, 's3:GetObject': [cacheObjects, results].sort(), 's3:PutObject': [cacheObjects, results].sort(), 'sqs:SendMessage': ['${RefreshQueue.Arn}'],
    };
    expect(dataGrants('HttpGetKlinesRole')).toEqual(withResults);
    expect(dataGrants('InvokeGetKlinesRole')).toEqual({ ...withResults, 'dynamodb:Scan': table });
    expect(dataGrants('HttpGetCoverageRole')).toEqual({ 'dynamodb:Query': table });
    expect(dataGrants('HttpGetDatasetsRole')).toEqual({ 'dynamodb:Scan': table });
    expect(dataGrants('CronRefreshRole')).toEqual({ 's3:GetObject': ['${CacheBucket.Arn}/config/watchlist.json'], 's3:ListBucket': ['${CacheBucket.Arn}'], 'sqs:SendMessage': ['${RefreshQueue.Arn}'] });
    const queue = ['${RefreshQueue.Arn}'];
    expect(dataGrants('SqsRefreshDatasetRole')).toEqual({
      ...readWriteCache, 'sqs:ReceiveMessage': queue, 'sqs:DeleteMessage': queue, 'sqs:ChangeMessageVisibility': queue, 'sqs:GetQueueAttributes': queue,
    });
    for (const key of Object.keys(FUNCTIONS)) {
      const logs = roleStatements(`${key}Role`).filter(({ actions }) => actions.some((a) => a.startsWith('logs:')));
      expect(logs).toEqual([{ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`\${${key}LogGroup.Arn}`] }]);
    }
  });
});

describe('storage', () => {
  it('keeps the bucket private, encrypted, TLS-only, versioned, with lifecycle rules for superseded objects and results', () => {
    const bucket = resource('CacheBucket').Properties;
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toMatch(/^(AES256|aws:kms)$/);
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.VersioningConfiguration.Status).toBe('Enabled');
    const rules = bucket.LifecycleConfiguration.Rules as Json[];
    const byPrefix = (prefix: string) => rules.find((rule) => rule.Prefix === prefix && rule.Status === 'Enabled');
    expect(byPrefix('cache/')?.NoncurrentVersionExpiration?.NoncurrentDays).toBeGreaterThan(0);
    expect(byPrefix('results/')).toMatchObject({ ExpirationInDays: 1, NoncurrentVersionExpiration: { NoncurrentDays: 1 } });
    const [, policy] = resourcesOf('AWS::S3::BucketPolicy').find(([, p]) => render(p.Properties.Bucket) === '${CacheBucket}')!;
    const tlsOnly = list<Json>(policy.Properties.PolicyDocument.Statement).find((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false');
    expect(tlsOnly?.Principal).toBe('*');
    expect(list<unknown>(tlsOnly?.Resource).map(render).sort()).toEqual(['${CacheBucket.Arn}', '${CacheBucket.Arn}/*']);
  });

  it('makes the table on-demand with pk/sk string keys and point-in-time recovery', () => {
    const table = resource('KlinesTable').Properties;
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }]);
    expect(table.AttributeDefinitions).toEqual([{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }]);
    expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it('points every function at the bucket and table of the stack', () => {
    for (const key of Object.keys(FUNCTIONS)) {
      const variables = resource(`${key}LambdaFunction`).Properties.Environment.Variables as Json;
      expect(render(variables.KLINES_STORE)).toBe('s3://${CacheBucket}/cache');
      expect(render(variables.KLINES_INDEX)).toBe('dynamodb://${KlinesTable}');
    }
    expect(render(resource('HttpGetKlinesLambdaFunction').Properties.Environment.Variables.KLINES_RESULTS)).toBe('s3://${CacheBucket}/results');
    expect(render(resource('CronRefreshLambdaFunction').Properties.Environment.Variables.KLINES_REFRESH_QUEUE_URL)).toBe('${RefreshQueue}');
    for (const key of ['CronRefresh', 'HttpGetKlines', 'InvokeGetKlines']) {
      expect(render(resource(`${key}LambdaFunction`).Properties.Environment.Variables.KLINES_REFRESH_QUEUE_URL)).toBe('${RefreshQueue}');
    }
  });
});

describe('refresh', () => {
  it('runs cron-refresh on a schedule', () => {
    const rules = resourcesOf('AWS::Events::Rule').filter(([, r]) => list<Json>(r.Properties.Targets).some((t) => render(t.Arn) === '${CronRefreshLambdaFunction.Arn}'));
    expect(rules).toHaveLength(1);
    expect(rules[0]![1].Properties.ScheduleExpression).toMatch(/^(rate|cron)\(/);
    expect(resourcesOf('AWS::Lambda::Permission').some(([, p]) => render(p.Properties.FunctionName) === '${CronRefreshLambdaFunction.Arn}' && p.Properties.Principal === 'events.amazonaws.com')).toBe(true);
  });

  it('feeds the worker from a queue that redrives to a dead-letter queue, with partial batch failures', () => {
    const queue = resource('RefreshQueue').Properties;
    expect(render(queue.RedrivePolicy.deadLetterTargetArn)).toBe('${RefreshDeadLetterQueue.Arn}');
    expect(queue.RedrivePolicy.maxReceiveCount).toBeGreaterThanOrEqual(1);
    expect(resource('RefreshDeadLetterQueue').Type).toBe('AWS::SQS::Queue');
    const workerTimeout = resource('SqsRefreshDatasetLambdaFunction').Properties.Timeout as number;
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * workerTimeout);
    const mappings = resourcesOf('AWS::Lambda::EventSourceMapping').map(([, m]) => m.Properties);
    expect(mappings).toHaveLength(1);
    expect(render(mappings[0]!.EventSourceArn)).toBe('${RefreshQueue.Arn}');
    expect(render(mappings[0]!.FunctionName)).toBe('${SqsRefreshDatasetLambdaFunction.Arn}');
    expect(mappings[0]!.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });
});

describe('HTTP API and logs', () => {
  it('requires IAM authorization on every route and throttles the stage and each route', () => {
    const routes = resourcesOf('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(['GET /coverage', 'GET /datasets', 'GET /klines']);
    for (const route of routes) expect(route.AuthorizationType).toBe('AWS_IAM');
    const stage = resource('HttpApiStage').Properties;
    expect(stage.DefaultRouteSettings.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(stage.DefaultRouteSettings.ThrottlingBurstLimit).toBeGreaterThan(0);
    for (const key of ['GET /klines', 'GET /coverage', 'GET /datasets']) expect(stage.RouteSettings[key].ThrottlingRateLimit).toBeGreaterThan(0);
  });

  it('creates every log group (each function and the API access log) with a retention', () => {
    const groups = resourcesOf('AWS::Logs::LogGroup');
    expect(groups.length).toBe(Object.keys(FUNCTIONS).length + 1);
    for (const [, group] of groups) expect(group.Properties.RetentionInDays).toBeGreaterThan(0);
    for (const key of Object.keys(FUNCTIONS)) {
      expect(resource(`${key}LogGroup`).Properties.LogGroupName).toBe(`/aws/lambda/${resource(`${key}LambdaFunction`).Properties.FunctionName}`);
    }
  });
});
