import { describe, expect, it } from 'vitest';
import { defineConfigKeys, keyTypes, parseConfigText } from '../../src/config/index.ts';
import type { CrossCheck } from '../../src/config/cross-checks.ts';
import { fakeInterfaces, problemsOf, schemaMistakes } from './helpers.ts';

/** An application whose keys are related to each other and to one of hastate's. */
const appKeys = defineConfigKeys({
  envPrefix: 'JOBS_',
  keys: {
    'jobs.poll_interval_seconds': { type: keyTypes.seconds(), default: 5, doc: 'How often the primary polls.' },
    'jobs.timeout_seconds': { type: keyTypes.seconds(), default: 2, doc: 'Bound on one poll.' },
    'jobs.min_workers': { type: keyTypes.integer(1, 100), default: 2, doc: 'Fewest workers.' },
    'jobs.max_workers': { type: keyTypes.integer(1, 100), default: 8, doc: 'Most workers.' },
    'jobs.in_port': { type: keyTypes.port(), default: 7000, doc: 'Where jobs arrive.' },
    'jobs.out_port': { type: keyTypes.port(), default: 7001, doc: 'Where results go.' },
    'jobs.lease_seconds': { type: keyTypes.seconds(), default: 20, doc: 'How long a job is held.' },
  },
  checks: [
    { key: 'jobs.timeout_seconds', lessThan: 'jobs.poll_interval_seconds', why: 'polls would overlap' },
    { key: 'jobs.max_workers', greaterThan: 'jobs.min_workers' },
    { key: 'jobs.out_port', differentFrom: 'jobs.in_port', why: 'one socket each' },
    { key: 'jobs.lease_seconds', greaterThan: 'ha.heartbeat.timeout_seconds', why: 'a job must outlive a failover' },
  ],
});

const load = (text: string, env: Record<string, string> = {}) => parseConfigText(text, 'jobs.yaml', { env, networkInterfaces: fakeInterfaces, appKeys });
const problems = (text: string, env: Record<string, string> = {}) => problemsOf(() => load(text, env));

describe('checks between an application\'s keys (defineConfigKeys({ checks }))', () => {
  it('hold for the defaults and for values that respect them', () => {
    expect(load('').jobs).toMatchObject({ timeoutMs: 2000, pollIntervalMs: 5000, minWorkers: 2, maxWorkers: 8, leaseMs: 20_000 });
    const c = load('jobs: {timeout_seconds: 0.5, poll_interval_seconds: 1}');
    expect(c.jobs).toMatchObject({ timeoutMs: 500, pollIntervalMs: 1000 });
  });

  it('a broken relation is one problem at the key that must change, with file:line:col, the other key and its value in the file\'s units', () => {
    expect(problems('jobs:\n  timeout_seconds: 5\n')).toEqual([
      'jobs.yaml:2:20: jobs.timeout_seconds: must be less than jobs.poll_interval_seconds (5), found 5: polls would overlap',
    ]);
    expect(problems('jobs:\n  min_workers: 9\n  max_workers: 9\n  out_port: 7000\n')).toEqual([
      'jobs.yaml:3:16: jobs.max_workers: must be greater than jobs.min_workers (9), found 9',
      'jobs.yaml:4:13: jobs.out_port: must differ from jobs.in_port (7000): one socket each',
    ]);
  });

  it('says when the offending value is a default, and relates to hastate\'s keys too', () => {
    expect(problems('jobs:\n  poll_interval_seconds: 1.5\n')).toEqual([
      'defaults: jobs.timeout_seconds: must be less than jobs.poll_interval_seconds (1.5), found the default 2: polls would overlap',
    ]);
    expect(problems('ha:\n  heartbeat:\n    timeout_seconds: 25\n')).toEqual([
      'defaults: jobs.lease_seconds: must be greater than ha.heartbeat.timeout_seconds (25), found the default 20: a job must outlive a failover',
    ]);
  });

  it('values from the environment are related like the file\'s', () => {
    expect(problems('', { JOBS_JOBS_MIN_WORKERS: '50' })).toEqual([
      'defaults: jobs.max_workers: must be greater than jobs.min_workers (50), found the default 8',
    ]);
  });

  it('a key whose own value is bad is reported once, not related', () => {
    expect(problems('jobs:\n  min_workers: 500\n')).toEqual([
      'jobs.yaml:2:16: jobs.min_workers: must be an integer in range (1..100), found 500',
    ]);
  });
});

describe('mistakes in declared checks are programming errors, all listed at once', () => {
  const keys = {
    'app.a_seconds': { type: keyTypes.seconds(), default: 1, doc: 'a' },
    'app.b_seconds': { type: keyTypes.seconds(), default: 2, doc: 'b' },
    'app.name': { type: keyTypes.string(), default: 'x', doc: 'n' },
  };
  const mistakes = (checks: unknown) => schemaMistakes(() => defineConfigKeys({ envPrefix: 'APP_', keys, checks: checks as CrossCheck[] }));

  it('unknown keys, no or two relations, ordering a string, a key against itself, a bad why', () => {
    expect(mistakes([
      { key: 'app.c_seconds', lessThan: 'app.b_seconds' },
      { key: 'app.a_seconds', lessThan: 'app.nope' },
      { key: 'app.a_seconds' },
      { key: 'app.a_seconds', lessThan: 'app.b_seconds', greaterThan: 'app.b_seconds' },
      { key: 'app.name', greaterThan: 'app.a_seconds' },
      { key: 'app.a_seconds', differentFrom: 'app.a_seconds' },
      { key: 'app.a_seconds', lessThan: 'app.b_seconds', why: 3 },
      'app.a_seconds < app.b_seconds',
    ])).toEqual([
      'checks[0]: key "app.c_seconds" is not a declared key',
      'checks[1]: lessThan "app.nope" is not a declared key',
      'checks[2]: needs exactly one of greaterThan, lessThan, differentFrom',
      'checks[3]: needs exactly one of greaterThan, lessThan, differentFrom',
      'checks[4]: app.name and app.a_seconds must both be numbers (integer or seconds) to be ordered',
      'checks[5]: app.a_seconds is compared with itself',
      'checks[6]: why must be a string',
      'checks[7]: expected { key, greaterThan | lessThan | differentFrom, why? }',
    ]);
    expect(mistakes({ key: 'app.a_seconds' })).toEqual(['checks must be a list of relations']);
  });

  it('a string may be related by difference', () => {
    expect(() => defineConfigKeys({ envPrefix: 'APP_', keys: { ...keys, 'app.other': { type: keyTypes.string(), default: 'y', doc: 'o' } }, checks: [{ key: 'app.other', differentFrom: 'app.name' }] })).not.toThrow();
  });
});
